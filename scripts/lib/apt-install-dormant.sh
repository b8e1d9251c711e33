#!/usr/bin/env bash
# apt-install-dormant.sh POLICY_RC APT-GET-COMMAND...: runs an apt-get install (as root, under the
# project's apt lock: scripts/lib/apt.sh) so that the packages it installs start no service now and
# none at boot (review M5). POLICY_RC is /usr/sbin/policy-rc.d: made for the install (exit 101: "action
# forbidden", which invoke-rc.d and deb-systemd-invoke honour) and removed after it — a policy-rc.d that
# was there already is left as it is. Then every systemd unit (service, socket, timer) shipped by a
# package that was not installed before is disabled, and named.
set -uo pipefail
policy=$1
shift
installed() { dpkg-query -W -f '${db:Status-Abbrev} ${Package}\n' 2>/dev/null | awk '$1 == "ii" {print $2}' | sort; }
before=$(installed)
made=""
if [ ! -e "$policy" ] && [ ! -L "$policy" ]; then
  printf '#!/bin/sh\n# made by snipcheck (scripts/lib/apt-install-dormant.sh) for one apt-get install: no service starts\nexit 101\n' >"$policy"
  chmod 755 "$policy"
  made=1
fi
"$@"
status=$?
[ -n "$made" ] && rm -f "$policy"
new=$(comm -13 <(echo "$before") <(installed))
for pkg in $new; do
  while read -r unit; do
    [ -n "$unit" ] || continue
    if command -v systemctl >/dev/null 2>&1 && [ "$(systemctl is-enabled "$unit" 2>/dev/null)" = enabled ]; then
      systemctl disable --quiet "$unit" 2>/dev/null \
        && printf '[apt] %s: disabled %s at boot (installed for the tests, which run their own; systemctl enable %s brings it back)\n' \
          "$pkg" "$unit" "$unit"
    fi
  done < <(dpkg -L "$pkg" 2>/dev/null | grep -E '^(/usr)?/lib/systemd/system/[^/@]+\.(service|socket|timer)$' | xargs -r -n1 basename)
done
exit "$status"
