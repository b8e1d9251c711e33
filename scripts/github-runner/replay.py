"""Replays .github/workflows/ci.yml here the way GitHub's hosted runner runs it: as a non-root user with
passwordless sudo (GitHub's `runner`), CI=true, a fresh clone per job, the workflow's own steps in order.

The steps are read from ci.yml, not copied, so the replay cannot drift from the file: every `run:`
step runs as written (GitHub's `bash --noprofile --norc -eo pipefail`), with the workflow's, the job's
and the step's `env:` and its `${{ }}` expressions evaluated; `if:` conditions are evaluated too. The
`uses:` steps that set up a hosted runner are played by what this machine has (KNOWN_ACTIONS: the
checkout is a fresh clone, setup-python/setup-go find Python >= 3.11 and Go on PATH, the artifact steps
copy files between the jobs); an action it does not know stops the replay. What cannot be the same here
is overridden and printed (OVERRIDES: no registry, Debian's chromium, no Actions cache service).

    .venv/bin/python scripts/github-runner/replay.py [--event push|pull_request] [--base REV]
                                                      [--shard NAME ...] [--keep-user]

--event pull_request plays a page-only pull request: each clone gets a commit that changes one page
(PR_PAGE) on top of --base (default HEAD), the pull request's base (origin/$BASE_REF), and ci.yml's
`test.sh --changed origin/$BASE_REF` runs as GitHub runs it.

The runner user (`snipcheck-runner`, in the docker group, with a sudoers entry) is made when missing
and removed at the end with its home (--keep-user keeps it and its caches for a warm replay). Root
only. Prints each step's wall time and exits non-zero when a step fails.
"""

from __future__ import annotations

import argparse
import json
import os
import pwd
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
WORKFLOW = ROOT / ".github" / "workflows" / "ci.yml"
USER = "snipcheck-runner"
PR_PAGE = "docs/index.en.md"
SUDOERS = Path("/etc/sudoers.d/snipcheck-runner")
# What this machine cannot do as GitHub does, and what the replay does instead (printed at the start).
OVERRIDES = {
    "SNIPCHECK_IMAGES": ("local", "no container registry is reachable here: the image kit's images"),
    "SNIPCHECK_CHROMIUM": ("/usr/bin/chromium", "Debian's chromium (the hosted runner has Google Chrome)"),
    "SNIPCHECK_BUILD_CACHE": ("", "no GitHub Actions cache service: BuildKit's local cache"),
    "SNIPCHECK_BUILDER": ("", "docker/setup-buildx-action is not run: the default docker driver"),
}
KNOWN_ACTIONS = (
    "actions/checkout",
    "actions/setup-python",
    "actions/setup-go",
    "actions/cache",
    "actions/upload-artifact",
    "actions/download-artifact",
    "docker/setup-buildx-action",
    "crazy-max/ghaction-github-runtime",
)


class ReplayError(Exception):
    pass


# ---- ${{ }} expressions ----------------------------------------------------------------------------

TOKEN = re.compile(
    r"\s*(?:(?P<str>'(?:[^']|'')*')|(?P<num>\d+)|(?P<op>==|!=|&&|\|\||!|\(|\)|,)"
    r"|(?P<call>[A-Za-z_]\w*)\(|(?P<ref>[A-Za-z_][\w.-]*))"
)


def _hash_files(*patterns: str) -> str:
    """hashFiles(): a digest of the files the patterns match (GitHub's own digest differs; a cache key
    only has to change with the files)."""
    import hashlib

    digest = hashlib.sha256()
    for pattern in patterns:
        for path in sorted(ROOT.glob(pattern)):
            if path.is_file():
                digest.update(path.read_bytes())
    return digest.hexdigest()


FUNCTIONS = {"always": lambda: True, "hashFiles": _hash_files}


def evaluate(expr: str, context: dict[str, Any]) -> Any:
    """A GitHub expression of the forms ci.yml uses: dotted references, string and number literals,
    ==, !=, &&, || (JavaScript-like: they return an operand), !, parentheses, and the functions
    always(), success(), hashFiles()."""
    out, pos = [], 0
    while pos < len(expr.strip()):
        m = TOKEN.match(expr, pos)
        if not m or m.end() == pos:
            raise ReplayError(f"cannot read the expression {expr!r} at {expr[pos:]!r}")
        pos = m.end()
        if m["str"] is not None:
            out.append(repr(m["str"][1:-1].replace("''", "'")))
        elif m["num"] is not None:
            out.append(m["num"])
        elif m["op"]:
            out.append({"&&": " and ", "||": " or ", "!": " not "}.get(m["op"], f" {m['op']} "))
        elif m["call"]:
            if m["call"] not in FUNCTIONS and m["call"] != "success":
                raise ReplayError(f"unknown function {m['call']}() in {expr!r}")
            out.append(f"_{m['call']}(")
        else:
            out.append(repr(_lookup(m["ref"], context)))
    names = {f"_{k}": v for k, v in FUNCTIONS.items()} | {"_success": lambda: context["_success"]}
    return eval("".join(out), {"__builtins__": {}}, names)  # noqa: S307


def _lookup(ref: str, context: dict[str, Any]) -> Any:
    value: Any = context
    for part in ref.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return "" if value is None else value


def substitute(text: str, context: dict[str, Any]) -> str:
    def one(m: re.Match[str]) -> str:
        value = evaluate(m.group(1), context)
        return "true" if value is True else "false" if value is False else str(value)

    return re.sub(r"\$\{\{\s*(.*?)\s*\}\}", one, text)


def condition(step: dict[str, Any], context: dict[str, Any]) -> bool:
    cond = step.get("if")
    if cond is None:
        return bool(context["_success"])
    text = str(cond).strip()
    text = text[3:-2].strip() if text.startswith("${{") else text
    value = evaluate(text, context)
    uses_status = re.search(r"\b(always|success|failure|cancelled)\(\)", text)
    return bool(value) and (bool(uses_status) or bool(context["_success"]))


# ---- the runner user -------------------------------------------------------------------------------


@dataclass
class Runner:
    created: bool = False
    home: Path = Path()

    @classmethod
    def ensure(cls) -> Runner:
        if shutil.which("sudo") is None:
            raise ReplayError("sudo is not installed: as root, `apt-get install sudo` (GitHub's runner has it)")
        runner = cls()
        try:
            pwd.getpwnam(USER)
        except KeyError:
            _say(f"creating the user {USER} (GitHub's `runner`: not root, passwordless sudo, docker group)")
            subprocess.run(["useradd", "--create-home", "--shell", "/bin/bash", USER], check=True)
            runner.created = True
        if subprocess.run(["getent", "group", "docker"], capture_output=True).returncode == 0:
            subprocess.run(["usermod", "-aG", "docker", USER], check=True)
        entry = f"{USER} ALL=(ALL) NOPASSWD:ALL\n"
        fd, tmp = tempfile.mkstemp(dir=SUDOERS.parent)
        with os.fdopen(fd, "w") as out:
            out.write(entry)
        Path(tmp).chmod(0o440)
        if subprocess.run(["visudo", "-cf", tmp], capture_output=True).returncode != 0:
            Path(tmp).unlink()
            raise ReplayError("visudo refused the sudoers entry")
        Path(tmp).replace(SUDOERS)
        runner.home = Path(pwd.getpwnam(USER).pw_dir)
        return runner

    def remove(self) -> None:
        SUDOERS.unlink(missing_ok=True)
        if self.created:
            _say(f"removing the user {USER} and its home {self.home}")
            subprocess.run(["userdel", "--remove", USER], capture_output=True)

    def run(self, argv: list[str], cwd: Path, env: dict[str, str], log: Path) -> int:
        cmd = ["sudo", "-u", USER, "-H", "env", "-i", *[f"{k}={v}" for k, v in env.items()], *argv]
        with log.open("ab") as out:
            proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
            assert proc.stdout is not None
            for line in proc.stdout:
                sys.stdout.buffer.write(b"    " + line)
                sys.stdout.flush()
                out.write(line)
            return proc.wait()


# ---- jobs ------------------------------------------------------------------------------------------


@dataclass
class Replay:
    runner: Runner
    event: str
    sha: str  # the commit every job checks out (push), or the pull request's base
    work: Path
    workflow: dict[str, Any]
    artifacts: Path = field(init=False)
    results: list[tuple[str, str, float, str]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.artifacts = self.work / "artifacts"
        self.artifacts.mkdir(parents=True)

    def env_base(self) -> dict[str, str]:
        home = self.runner.home
        return {
            "HOME": str(home),
            "USER": USER,
            "LOGNAME": USER,
            "PATH": f"{home}/go/bin:/usr/local/go/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            "LANG": "C.UTF-8",
            "CI": "true",
            "GITHUB_ACTIONS": "true",
            "GITHUB_EVENT_NAME": self.event,
        }

    def job(self, name: str, matrix: dict[str, Any]) -> bool:
        label = f"{name}" + (f" ({matrix['shard']})" if "shard" in matrix else "")
        spec = self.workflow["jobs"][name]
        workspace = self.work / f"{name}-{matrix.get('shard', 'job')}"
        workspace.mkdir()
        shutil.chown(workspace, USER)
        temp = workspace / "runner-temp"
        temp.mkdir()
        shutil.chown(temp, USER)
        repo = workspace / "repo"
        context: dict[str, Any] = {
            "matrix": matrix,
            "github": {
                "event_name": self.event,
                "base_ref": "replay-base" if self.event == "pull_request" else "",
                "ref": "refs/heads/main",
                "repository": "replay/replay",
                "repository_owner": "replay",
                "server_url": "https://github.invalid",
                "event": {"repository": {"name": "replay", "default_branch": "main"}},
            },
            "runner": {"temp": str(temp)},
            "steps": {"buildx": {"outputs": {"name": ""}}},
            "env": {},
            "_success": True,
        }
        env = self.env_base() | {"RUNNER_TEMP": str(temp)}
        for key, value in (self.workflow.get("env") or {}).items():
            env[key] = substitute(str(value), context)
        for index, step in enumerate(spec["steps"], 1):
            title = step.get("name") or step.get("uses") or step.get("run", "").splitlines()[0]
            title = substitute(str(title), context)
            if not condition(step, context):
                self.results.append((label, title, 0.0, "skipped (if:)"))
                continue
            _say(f"{label} step {index}: {title}")
            start = time.monotonic()
            ok = self.step(step, context, env, repo, workspace)
            took = time.monotonic() - start
            self.results.append((label, title, took, "ok" if ok else "FAILED"))
            if not ok:
                context["_success"] = False
        self.discard_root_leftovers()
        return bool(context["_success"])

    def discard_root_leftovers(self) -> None:
        """A job run with sudo (the cluster shard: `sudo --preserve-env` keeps HOME) leaves root's files in
        the runner's home (~/.docker/buildx/current, ~/.kube/cache). On GitHub the next job gets a new
        machine and never sees them; here the jobs share one home, and the next user job failed on them
        ("open ~/.docker/buildx/current: permission denied"). They go back to the runner, as a new
        machine's home would be the runner's (caches come back through actions/cache, as there)."""
        home = self.runner.home
        subprocess.run(["chown", "-R", "--from=root", f"{USER}:{USER}", str(home)], check=True)

    def step(self, step: dict[str, Any], context: dict[str, Any], env: dict[str, str], repo: Path, ws: Path) -> bool:
        step_env = dict(env)
        for key, value in (step.get("env") or {}).items():
            step_env[key] = substitute(str(value), context)
        for key, (value, why) in OVERRIDES.items():
            if key in step_env and step_env[key] != value:
                print(f"    [replay] {key}={value!r} instead of {step_env[key]!r}: {why}")
                step_env[key] = value
        if "uses" in step:
            return self.action(step, context, step_env, repo, ws)
        script = ws / f"step-{time.monotonic_ns()}.sh"
        script.write_text(substitute(step["run"], context))
        shutil.chown(script, USER)
        cwd = repo if repo.exists() else ws
        status = self.runner.run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)], cwd, step_env, ws / "log"
        )
        if status:
            print(f"    [replay] exit {status}")
        return status == 0

    def action(self, step: dict[str, Any], context: dict[str, Any], env: dict[str, str], repo: Path, ws: Path) -> bool:
        uses = step["uses"].split("@")[0]
        given = {k: substitute(str(v), context) for k, v in (step.get("with") or {}).items()}
        if uses not in KNOWN_ACTIONS:
            raise ReplayError(f"ci.yml uses {uses}, which the replay cannot play: add it to KNOWN_ACTIONS")
        if uses == "actions/checkout":
            shallow = given.get("fetch-depth") != "0"
            # (safe.directory: the checkout being replayed belongs to root, the clone to the runner user. Git
            # before 2.45 reads it only from global or system config: a global config of the clone's own, named
            # in the environment so that the upload-pack that clone/fetch start reads it too)
            trusted = ws / "gitconfig-replay"
            trusted.write_text(f"[safe]\n\tdirectory = {ROOT / '.git'}\n\tdirectory = {ROOT}\n")
            genv = env | {"GIT_CONFIG_GLOBAL": str(trusted)}
            git = ["git", "-C", str(repo), "-c", "user.name=replay", "-c", "user.email=replay@example.invalid"]
            # every job checks out the one commit the replay started from, as every job of a GitHub run
            # checks out the run's SHA (a commit made meanwhile would give shards of different commits);
            # fetch-depth 1 (the default) as actions/checkout does it: that commit alone, fetched by its SHA
            if shallow:
                steps = [
                    ["git", "init", "-q", str(repo)],
                    [*git, "fetch", "-q", "--depth", "1", f"file://{ROOT}", self.sha],
                    [*git, "checkout", "-q", "--detach", "FETCH_HEAD"],
                ]
            else:
                steps = [
                    ["git", "clone", "-q", "--no-local", str(ROOT), str(repo)],
                    [*git, "reset", "-q", "--hard", self.sha],
                ]
            ok = all(self.runner.run(argv, ws, genv, ws / "log") == 0 for argv in steps)
            if ok and self.event == "pull_request":
                # the pull request: its base as actions/checkout fetches it (origin/<base_ref>), and on top
                # of it one commit that changes one page, as a contributor's page-only pull request does
                steps = [
                    [*git, "update-ref", "refs/remotes/origin/replay-base", self.sha],
                    ["bash", "-c", f"printf '\\n<!-- a page-only change (replay) -->\\n' >> {repo / PR_PAGE}"],
                    [*git, "commit", "-q", "-am", "A page-only change (GitHub replay)"],
                ]
                # the same commit in every job (GitHub checks out one merge commit): fixed dates make the
                # page commit's SHA the same, so that the report job can merge the shards' reports
                fixed = {"GIT_AUTHOR_DATE": "2026-01-01T00:00:00Z", "GIT_COMMITTER_DATE": "2026-01-01T00:00:00Z"}
                ok = all(self.runner.run(argv, ws, env | fixed, ws / "log") == 0 for argv in steps)
            return ok
        if uses == "actions/setup-python":
            want = given.get("python-version", "3")
            check = f"import sys; assert sys.version_info[:2] >= tuple(map(int, '{want}'.split('.'))), sys.version"
            return self.runner.run(["python3", "-c", check], ws, env, ws / "log") == 0
        if uses == "actions/setup-go":
            return self.runner.run(["go", "version"], ws, env, ws / "log") == 0
        if uses == "actions/upload-artifact":
            found = [p for pattern in given["path"].split() for p in _artifact_paths(repo, pattern.rstrip("/"))]
            if not found and given.get("if-no-files-found", "warn") == "error":
                print(f"    [replay] upload-artifact: nothing at {given['path']}")
                return False
            dest = self.artifacts / given["name"]
            dest.mkdir(exist_ok=True)
            for p in found:
                (shutil.copytree if p.is_dir() else shutil.copy2)(p, dest / p.name)
            return True
        if uses == "actions/download-artifact":
            dest = repo / given["path"]
            dest.mkdir(parents=True, exist_ok=True)
            pattern = given.get("pattern", "*")
            for art in sorted(self.artifacts.glob(pattern)):
                for f in art.iterdir():
                    shutil.copy2(f, dest / f.name)
            subprocess.run(["chown", "-R", USER, str(repo / given["path"].split("/")[0])], check=True)
            return True
        if uses == "actions/cache":
            return self.restore_cache(given["path"])
        print(f"    [replay] {uses}: nothing to do here ({OVERRIDES['SNIPCHECK_BUILD_CACHE'][1]})")
        return True

    def restore_cache(self, paths: str) -> bool:
        """actions/cache: a hit when this machine's root has the same path (a warm Actions cache), else a
        miss, as on a runner whose cache is empty."""
        for path in paths.split():
            if not path.startswith("~/"):
                raise ReplayError(f"actions/cache path {path!r}: the replay plays only paths under ~")
            mine, theirs = Path.home() / path[2:], self.runner.home / path[2:]
            if mine.is_dir() and not theirs.exists():
                print(f"    [replay] actions/cache: {path} restored from {mine}")
                theirs.parent.mkdir(parents=True, exist_ok=True)
                shutil.copytree(mine, theirs, symlinks=True)
                subprocess.run(["chown", "-R", USER, str(self.runner.home / path[2:].split("/")[0])], check=True)
            else:
                print(f"    [replay] actions/cache: {path} not restored (a cache miss)")
        return True


def _artifact_paths(repo: Path, pattern: str) -> list[Path]:
    """upload-artifact's `path`: relative to the workspace (globs allowed), or absolute (`${{ runner.temp }}/site`)."""
    if Path(pattern).is_absolute():
        return [Path(pattern)] if Path(pattern).exists() else []
    return list(repo.glob(pattern))


def plan(workflow: dict[str, Any], event: str) -> list[str]:
    """What a replay of `event` would do, step by step, without running anything: every expression is
    evaluated and every action checked against KNOWN_ACTIONS (ReplayError otherwise). The inventory tier
    runs it on ci.yml, so a workflow change the replay cannot play fails at once."""
    lines = []
    jobs = [("shard", m) for m in workflow["jobs"]["shard"]["strategy"]["matrix"]["include"]] + [("report", {})]
    for name, matrix in jobs:
        context: dict[str, Any] = {
            "matrix": matrix,
            "github": {"event_name": event, "base_ref": "replay-base", "event": {"repository": {}}},
            "runner": {"temp": "/tmp"},
            "steps": {"buildx": {"outputs": {"name": ""}}},
            "_success": True,
        }
        for step in workflow["jobs"][name]["steps"]:
            runs = condition(step, context)
            for value in [*(step.get("env") or {}).values(), *(step.get("with") or {}).values(), step.get("run", "")]:
                substitute(str(value), context)
            if "uses" in step and step["uses"].split("@")[0] not in KNOWN_ACTIONS:
                raise ReplayError(f"ci.yml uses {step['uses']}, which the replay cannot play: add it to KNOWN_ACTIONS")
            what = step.get("uses") or "; ".join(substitute(step.get("run", ""), context).strip().splitlines())
            lines.append(f"{name} {matrix.get('shard', '')}: {'run ' if runs else 'skip'} {what}")
    return lines


def _say(text: str) -> None:
    print(f"[replay] {text}", flush=True)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--event", choices=("push", "pull_request"), default="push")
    parser.add_argument(
        "--base", default="HEAD", help="the commit to replay (push), or the pull request's base (pull_request)"
    )
    parser.add_argument("--shard", action="append", help="only these shards (default: all, then the report job)")
    parser.add_argument("--keep-user", action="store_true", help="keep the runner user and its caches")
    args = parser.parse_args(argv)
    if os.geteuid() != 0:
        print("[replay] run it as root: it makes the runner user and its sudoers entry", file=sys.stderr)
        return 2
    workflow = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))
    shards = workflow["jobs"]["shard"]["strategy"]["matrix"]["include"]
    chosen = [m for m in shards if not args.shard or m["shard"] in args.shard]
    if not chosen:
        print(f"[replay] no shard named {args.shard}: ci.yml has {[m['shard'] for m in shards]}", file=sys.stderr)
        return 2
    for key, (value, why) in OVERRIDES.items():
        _say(f"override {key}={value!r}: {why}")
    runner = Runner.ensure()
    work = runner.home / "replay" / time.strftime("%Y%m%d-%H%M%S")
    work.mkdir(parents=True)
    shutil.chown(work.parent, USER)
    sha = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "--verify", f"{args.base}^{{commit}}"],
        capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    _say(
        f"{args.event}: every job checks out {sha[:12]}"
        + (" plus a page-only commit" if args.event == "pull_request" else "")
    )
    replay = Replay(runner, args.event, sha, work, workflow)
    ok = True
    started = time.monotonic()
    try:
        for matrix in chosen:
            ok &= replay.job("shard", matrix)
        if not args.shard:
            ok &= replay.job("report", {})
    finally:
        print("\n[replay] step                                                        seconds  result")
        for job, title, took, result in replay.results:
            print(f"[replay] {(job + ': ' + title)[:60]:60} {took:7.1f}  {result}")
        print(f"[replay] {args.event}: {'passed' if ok else 'FAILED'} in {time.monotonic() - started:.0f} s")
        (ROOT / "build").mkdir(exist_ok=True)
        (ROOT / "build" / f"github-replay-{args.event}.json").write_text(
            json.dumps({"event": args.event, "ok": ok, "steps": replay.results}, indent=1)
        )
        if not args.keep_user:
            runner.remove()
    return 0 if ok else 1


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except ReplayError as exc:
        print(f"[replay] {exc}", file=sys.stderr)
        sys.exit(2)
