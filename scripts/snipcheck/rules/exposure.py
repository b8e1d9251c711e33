"""What a compose stack exposes, judged from `docker compose config` as the reader's files give it.

The chapter's stacks run on readers' laptops. Docker publishes a port without a host IP on every
interface and its rules bypass ufw/firewalld, so a database published that way is reachable from the
café's Wi-Fi. The policy the Compose pages teach, and that every compose snippet is held to:

1. **Ports.** A published port binds a host IP (127.0.0.1) unless the manifest declares it public
   (`compose.exposure.public: ["app:8080"]`: the service's own API, which is what the stack is for).
   A declared public port that is not published on every interface is a stale declaration.
2. **Credentials.** Every password, secret or token a service receives (`environment` keys such as
   `DB_PASSWORD`, `POSTGRES_PASSWORD`, `REDISCLI_AUTH`, and `redis-server --requirepass`) comes from a
   *required* variable, `${VAR:?message}`: a missing `.env` stops `docker compose` with the message
   instead of starting with a default everybody knows. A literal value is allowed only where the
   manifest says why (`literal_credentials: reason`) and the stack publishes nothing but its public
   ports, so the value is reachable only inside the project's network.
3. **Services with a known default login** change it: Redis that publishes a port requires a password
   (`--requirepass`: without one any local process can read and write it); Grafana gets
   `GF_SECURITY_ADMIN_PASSWORD` (its default is admin/admin).
4. **Restart.** A stack declared for development (`purpose: development`) does not come back at boot:
   no `restart: always` or `unless-stopped`.

`problems()` takes the two forms of the effective configuration, interpolated (`config --format json`:
normalised ports) and not interpolated (`--no-interpolate`: where each value comes from).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

ALL_INTERFACES = ("", "0.0.0.0", "::")
CREDENTIAL_KEY = re.compile(r"PASSWORD|PASSWD|SECRET|TOKEN|_AUTH$", re.I)
REQUIRED_VARIABLE = re.compile(r"^\$\{[A-Za-z_][A-Za-z0-9_]*:?\?[^}]*\}$")
RESTARTS_AT_BOOT = ("always", "unless-stopped")


def published(service: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [p for p in service.get("ports") or [] if isinstance(p, dict) and p.get("published")]


def on_all_interfaces(port: Mapping[str, Any]) -> bool:
    return str(port.get("host_ip") or "") in ALL_INTERFACES


def _command(service: Mapping[str, Any]) -> list[str]:
    """The command's words; a `${VAR:?message with spaces}` that --no-interpolate split is one word again."""
    cmd = service.get("command") or []
    words = cmd.split() if isinstance(cmd, str) else [str(c) for c in cmd]
    out: list[str] = []
    for word in words:
        if out and out[-1].count("${") > out[-1].count("}"):
            out[-1] += " " + word
        else:
            out.append(word)
    return out


def credentials(service: Mapping[str, Any]) -> dict[str, str]:
    """Where each credential of a service comes from (raw, not interpolated): `what -> value`."""
    found: dict[str, str] = {}
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) if "=" in item else (item, "") for item in env)
    for key, value in env.items():
        if CREDENTIAL_KEY.search(str(key)):
            found[f"environment {key}"] = "" if value is None else str(value)
    cmd = _command(service)
    for i, arg in enumerate(cmd):
        if arg == "--requirepass":
            found["--requirepass"] = cmd[i + 1] if i + 1 < len(cmd) else ""
    return found


def runs_redis(service: Mapping[str, Any]) -> bool:
    image = str(service.get("image") or "")
    return "redis-server" in _command(service) or re.match(r"^(docker\.io/)?(library/)?redis:", image) is not None


def problems(
    effective: Mapping[str, Any],
    raw: Mapping[str, Any],
    *,
    public: list[str] | tuple[str, ...] = (),
    purpose: str | None = None,
    literal_credentials: str | None = None,
) -> list[str]:
    """Every way the stack breaks the policy above, one sentence each (empty when it keeps it)."""
    out: list[str] = []
    services: Mapping[str, Any] = effective.get("services") or {}
    raw_services: Mapping[str, Any] = raw.get("services") or {}
    declared = set(public)
    seen_public: set[str] = set()
    for name, svc in sorted(services.items()):
        for port in published(svc):
            key = f"{name}:{port.get('target')}"
            if on_all_interfaces(port):
                seen_public.add(key)
                if key not in declared:
                    loopback = f"127.0.0.1:{port.get('published')}:{port.get('target')}"
                    out.append(
                        f"service {name}: port {port.get('published')}:{port.get('target')} is published on every "
                        f'interface; bind it to the loopback ("{loopback}") '
                        "or declare it in compose.exposure.public with the reason the text gives"
                    )
            elif literal_credentials:
                out.append(
                    f"service {name}: port {port.get('target')} is published while the stack keeps literal "
                    f"credentials ({literal_credentials}); publish nothing but the public ports or take them "
                    "from required variables"
                )
        if runs_redis(svc) and published(svc) and "--requirepass" not in _command(svc):
            out.append(f"service {name}: Redis publishes a port without a password; add --requirepass ${{VAR:?}}")
        if str(svc.get("image") or "").startswith("grafana/grafana") and not any(
            k.startswith("GF_SECURITY_ADMIN_PASSWORD") for k in (svc.get("environment") or {})
        ):
            out.append(f"service {name}: Grafana keeps its default login admin/admin; set GF_SECURITY_ADMIN_PASSWORD")
        restart = str(svc.get("restart") or "")
        if purpose == "development" and restart in RESTARTS_AT_BOOT:
            out.append(
                f'service {name}: restart: {restart} in a development stack brings it back at every boot; use "no"'
            )
        for what, value in sorted(credentials(raw_services.get(name) or {}).items()):
            if REQUIRED_VARIABLE.match(value) or literal_credentials:
                continue
            out.append(
                f"service {name}: {what} = {value!r} is not a required variable; "
                "use ${VAR:?message} so a missing .env stops compose instead of starting with a known value"
            )
    for key in sorted(declared - seen_public):
        out.append(f"compose.exposure.public names {key}, which is not published on every interface (stale)")
    return out
