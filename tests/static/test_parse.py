"""parse: each declared file parses in its format.

TOML (tomllib), JSON, YAML (every document, safe loader), .env (KEY=VALUE lines), go.mod
(`go mod edit -json`) and SQL: applied for real to a throwaway PostgreSQL 15 (initdb + pg_ctl
in a temp dir, 127.0.0.1 on an ephemeral port), each file into a fresh database with
ON_ERROR_STOP. Manifest setting for SQL (optional): `sql_requires: [schema.sql]`, files applied
first (relative to the manifest's directory or snippets/).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
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

from snipcheck import manifest
from snipcheck.manifest import Snippet
from support import postgres_bin

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


@dataclass
class Postgres:
    port: int
    psql: str
    names: Iterator[int]

    def psql_args(self, db: str) -> list[str]:
        return [
            self.psql,
            "-X",
            "-q",
            "-v",
            "ON_ERROR_STOP=1",
            "-h",
            "127.0.0.1",
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


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def postgres() -> Iterator[Postgres]:
    initdb, pg_ctl = PG_BIN / "initdb", PG_BIN / "pg_ctl"
    require(
        initdb.is_file() and pg_ctl.is_file() and find_tool("psql") is not None,
        f"PostgreSQL server binaries are missing at {PG_BIN} "
        "(apt-get install postgresql-15 postgresql-client-15, or set SNIPCHECK_PG_BIN)",
    )
    as_user: list[str] = []
    home = Path(tempfile.mkdtemp(prefix="snipcheck-pg-"))
    if os.geteuid() == 0:  # initdb refuses to run as root
        shutil.chown(home, "postgres", "postgres")
        as_user = ["runuser", "-u", "postgres", "--"]
    data, port = home / "data", _free_port()
    try:
        res = run(
            [
                *as_user,
                str(initdb),
                "-D",
                str(data),
                "-U",
                "postgres",
                "-A",
                "trust",
                "-E",
                "UTF8",
                "--locale=C",
                "--no-sync",
            ],
            timeout=90,
        )
        assert res.returncode == 0, res.describe()
        opts = f"-p {port} -k {home} -c listen_addresses=127.0.0.1 -c fsync=off"
        res = run(
            [*as_user, str(pg_ctl), "-D", str(data), "-o", opts, "-l", str(home / "log"), "-w", "-t", "60", "start"],
            timeout=90,
        )
        assert res.returncode == 0, res.describe() + (home / "log").read_text(errors="replace")
        yield Postgres(port, tool("psql"), count(1))
    finally:
        run([*as_user, str(pg_ctl), "-D", str(data), "-m", "immediate", "stop"], timeout=60)
        shutil.rmtree(home, ignore_errors=True)


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
