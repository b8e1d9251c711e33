"""parse: each declared file parses in its format.

TOML (tomllib), JSON, YAML (every document, safe loader), .env (KEY=VALUE lines), go.mod
(`go mod edit -json`) and SQL: applied for real to a throwaway PostgreSQL 15 (initdb + postgres in
a private temp dir, its Unix socket only: no TCP), each file into a fresh database with
ON_ERROR_STOP. Manifest setting for SQL (optional): `sql_requires: [schema.sql]`, files applied
first (relative to the manifest's directory or snippets/).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import tempfile
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import count
from pathlib import Path
from typing import Any

import pytest
import yaml
from statictools import fail, find_tool, ids, require, resolve, run, tool

from snipcheck.harness import saferm, spawned, waiting
from snipcheck.model import manifest
from snipcheck.model.manifest import Snippet
from support import postgres_bin, tcp_listeners

pytestmark = [pytest.mark.static, pytest.mark.timeout(120)]

SNIPPETS = manifest.by_check("parse")
PG_BIN = postgres_bin()
YAML_KINDS = {"yaml", "compose", "kubernetes", "kustomization", "workflow"}
ENV_LINE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=.*$")


# ---- the formats -------------------------------------------------------------------------------


def parse_toml(text: str) -> None:
    tomllib.loads(text)


def parse_json(text: str) -> None:
    json.loads(text)


def parse_yaml(text: str) -> None:
    docs = list(yaml.safe_load_all(text))
    if not any(d is not None for d in docs):
        raise ValueError("no YAML document")


def parse_env(text: str) -> None:
    bad = [
        f"line {i}: {line!r}"
        for i, line in enumerate(text.splitlines(), 1)
        if line.strip() and not line.lstrip().startswith("#") and not ENV_LINE.match(line)
    ]
    if bad:
        raise ValueError("not KEY=VALUE: " + "; ".join(bad))


PARSERS = {"toml": parse_toml, "json": parse_json, "env": parse_env, **{k: parse_yaml for k in YAML_KINDS}}


# ---- a throwaway PostgreSQL --------------------------------------------------------------------
# No TCP at all (listen_addresses=''): the server's only socket is in a 0700 directory of this fixture, so
# only its owner (the postgres user when the suite runs as root, else the contributor) and root can
# connect; `trust` applies to that socket only, TCP connections are rejected by pg_hba.conf besides.
# The server is a direct child with a parent-death signal, recorded in snipcheck.harness.spawned's registry.

SOCKET_PORT = 5432  # names the socket file (.s.PGSQL.5432) in the private directory; no port is opened


@dataclass
class Postgres:
    socket_dir: Path
    psql: str
    names: Iterator[int]
    server: spawned.Server
    port: int = SOCKET_PORT

    def psql_args(self, db: str) -> list[str]:
        return [
            self.psql,
            "-X",
            "-q",
            "-v",
            "ON_ERROR_STOP=1",
            "-h",
            str(self.socket_dir),
            "-p",
            str(self.port),
            "-U",
            "postgres",
            "-d",
            db,
        ]

    def fresh_db(self) -> str:
        name = f"snip_{next(self.names)}"
        res = run([*self.psql_args("postgres"), "-c", f"CREATE DATABASE {name}"], timeout=30)
        assert res.returncode == 0, res.describe()
        return name

    def apply(self, db: str, sql: Path) -> tuple[bool, str]:
        res = run([*self.psql_args(db), "-f", str(sql)], timeout=60)
        return res.returncode == 0, (res.stderr or res.stdout).strip()


@pytest.fixture(scope="session")
def postgres() -> Iterator[Postgres]:
    initdb, server_bin = PG_BIN / "initdb", PG_BIN / "postgres"
    require(
        initdb.is_file() and server_bin.is_file() and find_tool("psql") is not None,
        f"PostgreSQL server binaries are missing at {PG_BIN} "
        "(apt-get install postgresql-15 postgresql-client-15, or set SNIPCHECK_PG_BIN)",
    )
    spawned.reap_and_warn()  # a killed run's servers
    home = Path(tempfile.mkdtemp(prefix="snipcheck-pg-"))  # mode 0700: the socket's only door
    as_user: list[str] = []
    drop: dict[str, Any] = {}
    if os.geteuid() == 0:  # initdb and postgres refuse to run as root
        shutil.chown(home, "postgres", "postgres")
        as_user = ["runuser", "-u", "postgres", "--"]
        drop = {"user": "postgres", "group": "postgres", "extra_groups": []}
    data = home / "data"
    server: spawned.Server | None = None
    try:
        res = run(
            [
                *as_user,
                str(initdb),
                "-D",
                str(data),
                "-U",
                "postgres",
                "--auth-local=trust",
                "--auth-host=reject",
                "-E",
                "UTF8",
                "--locale=C",
                "--no-sync",
            ],
            timeout=90,
        )
        assert res.returncode == 0, res.describe()
        server = spawned.start(
            "postgres-static",
            [str(server_bin), "-D", str(data), "-k", str(home), "-p", str(SOCKET_PORT),
             "-c", "listen_addresses=", "-c", "fsync=off"],
            log=home / "log",
            workdir=home,
            stop_signal=signal.SIGINT,  # fast shutdown
            cwd=home,
            **drop,
        )  # fmt: skip
        pg = Postgres(home, tool("psql"), count(1), server)

        def ready() -> bool:
            if (why := server.died()) is not None:
                raise waiting.Abort(why)
            return run([*pg.psql_args("postgres"), "-c", "SELECT 1"], timeout=10).returncode == 0

        waiting.until(ready, timeout=60, what="the throwaway PostgreSQL to accept connections on its socket")
        yield pg
    finally:
        if server is not None:
            server.stop(grace=30)
        saferm.remove_tree(home)


# ---- the check ---------------------------------------------------------------------------------


@pytest.mark.check("parse")
@pytest.mark.parametrize("snippet", SNIPPETS, ids=ids(SNIPPETS))
def test_parse(snippet: Snippet, request: pytest.FixtureRequest, measure: dict[str, Any]) -> None:
    if snippet.kind == "sql":
        pg: Postgres = request.getfixturevalue("postgres")
        db = pg.fresh_db()
        for dep in snippet.settings.get("sql_requires", []) or []:
            ok, out = pg.apply(db, resolve(snippet, str(dep)))
            if not ok:
                fail(f"{snippet.path}: required {dep} does not apply:\n{out}")
        ok, out = pg.apply(db, snippet.file)
        measure["postgres"] = "15 (throwaway, real apply)"
        if not ok:
            fail(f"{snippet.path}: PostgreSQL rejects it:\n{out}")
        return
    if snippet.kind == "gomod":
        res = run(
            [tool("go"), "mod", "edit", "-json", snippet.file.name],
            cwd=snippet.file.parent,
            env={"GOTOOLCHAIN": "local"},
        )
        if res.returncode != 0:
            fail(f"{snippet.path}: go mod edit -json rejects it:\n{res.stderr}")
        return
    parser = PARSERS.get(snippet.kind)
    if parser is None:
        fail(
            f"{snippet.where()}: the parse check has no parser for kind {snippet.kind!r} "
            f"(known: sql, gomod, {', '.join(sorted(PARSERS))})"
        )
    try:
        parser(snippet.file.read_text(encoding="utf-8"))
    except Exception as exc:  # each parser's own error type
        fail(f"{snippet.path}: does not parse as {snippet.kind}: {exc}")


# ---- each parser rejects broken input ----------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "text"),
    [
        ("toml", '[server]\nport = 8080\nhost = "a\n'),
        ("json", '{"port": 8080,}'),
        ("yaml", "services:\n  app: [a\n"),
        ("env", "PORT=8080\nexport DB_HOST=db\n"),
    ],
)
def test_parser_rejects(kind: str, text: str) -> None:
    with pytest.raises(Exception):  # noqa: B017 - each format raises its own error type
        PARSERS[kind](text)


def test_parsers_accept(tmp_path: Path) -> None:
    parse_toml("[server]\nport = 8080\n")
    parse_json('{"port": 8080}')
    parse_yaml("a: 1\n---\nb: 2\n")
    parse_env("# comment\nPORT=8080\nDB_PASSWORD='s3cret'\n\n")


def test_postgres_rejects_broken_sql(postgres: Postgres, tmp_path: Path) -> None:
    db = postgres.fresh_db()
    good = tmp_path / "good.sql"
    good.write_text(
        "CREATE TABLE users (id BIGSERIAL PRIMARY KEY, name TEXT NOT NULL);\n"
        "INSERT INTO users (name) VALUES ('alice');\n",
        encoding="utf-8",
    )
    ok, out = postgres.apply(db, good)
    assert ok, out
    bad = tmp_path / "bad.sql"
    bad.write_text(
        "CREATE TABLE orders (id BIGSERIAL PRIMARY KEY, user_id BIGINT REFERENCES userz(id));\n", encoding="utf-8"
    )
    ok, out = postgres.apply(db, bad)
    assert not ok and "userz" in out, out
    typo = tmp_path / "typo.sql"
    typo.write_text("CREAT TABLE t (id INT);\n", encoding="utf-8")
    ok, out = postgres.apply(db, typo)
    assert not ok and "syntax error" in out, out


# ---- the throwaway PostgreSQL admits nobody else -----------------------------------------------


def _postmaster_pid(pg: Postgres) -> int:
    res = run([*pg.psql_args("postgres"), "-tA", "-c", "SHOW data_directory"], timeout=30)
    assert res.returncode == 0, res.describe()
    return int((Path(res.stdout.strip()) / "postmaster.pid").read_text().split()[0])


def test_postgres_listens_on_no_tcp_port(postgres: Postgres) -> None:
    """Any local user could reach a TCP port; the server's only socket is in the fixture's 0700 directory."""
    pid = _postmaster_pid(postgres)
    listeners = tcp_listeners(pid)
    assert not listeners, f"the throwaway PostgreSQL (pid {pid}) listens on TCP (hex address:port): {listeners}"


@pytest.mark.root(reason="acting as another local user needs root; as a user, the 0700 directory is the user's own")
def test_postgres_refuses_another_local_user(postgres: Postgres) -> None:
    """`nobody` runs the fixture's own psql command (superuser `postgres`, `trust`): it cannot even reach the
    server."""
    res = run(["runuser", "-u", "nobody", "--", *postgres.psql_args("postgres"), "-c", "SELECT 1"], timeout=30)
    assert res.returncode != 0, f"user nobody connected to the throwaway PostgreSQL as its superuser:\n{res.describe()}"
    assert "Permission denied" in res.stderr, res.describe()
