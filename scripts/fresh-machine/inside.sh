#!/usr/bin/env bash
# Runs as the container's command (scripts/fresh-machine/measure.sh): clone the bundled commit into
# an empty HOME and run CI's command on this fresh Debian 12 userland, as CI does. Output goes to the
# shared directory /mnt/host: ci.log, stat.log (/proc/stat every 5 s), report.json,
# pkgs-before.txt / pkgs-after.txt (libc6, systemd, python3), result (exit code and wall seconds).
set -u
out=/mnt/host
exec > "$out/ci.log" 2>&1

# Harness only, not part of what is measured: a container's cgroup namespace root holds the
# container's processes, and cgroup v2 enables controllers for children only of a cgroup with no
# processes; move them into a leaf (as docker:dind's entrypoint does) so that the engine and
# kubelet can make their cgroups as on a machine's root cgroup. Mounts shared for kubelet's volumes.
if [ -f /sys/fs/cgroup/cgroup.controllers ]; then
  mkdir -p /sys/fs/cgroup/init
  xargs -rn1 < /sys/fs/cgroup/cgroup.procs > /sys/fs/cgroup/init/cgroup.procs 2>/dev/null || :
  sed -e 's/ / +/g' -e 's/^/+/' < /sys/fs/cgroup/cgroup.controllers > /sys/fs/cgroup/cgroup.subtree_control
fi
mount --make-rshared /

echo "[fresh] $(date -u) on $(nproc) cores, $(free -g | awk '/^Mem:/ { print $2 }') GB; $(uname -r)"
dpkg-query -W -f '${Package} ${Version}\n' libc6 systemd python3 | tee "$out/pkgs-before.txt"
git clone -q "$out/repo.bundle" /root/ci || { echo "[fresh] git clone of the bundle failed"; echo "rc=2 wall=0" > "$out/result"; exit 2; }
cd /root/ci || exit 2
echo "[fresh] commit $(git log --oneline -1)"
(while sleep 5; do printf '%s %s\n' "$(date +%s)" "$(head -1 /proc/stat)"; done > "$out/stat.log") &
sampler=$!
start=$(date +%s)
CI=true bash .ci/run
rc=$?
end=$(date +%s)
kill "$sampler"
echo "[fresh] .ci/run exit $rc, wall $((end - start)) s"
cp build/report.json "$out/report.json" 2>/dev/null || echo "[fresh] no build/report.json"
dpkg-query -W -f '${Package} ${Version}\n' libc6 systemd python3 > "$out/pkgs-after.txt"
df -h / /var/lib/docker
echo "rc=$rc wall=$((end - start))" > "$out/result"
sync
exit "$rc"
