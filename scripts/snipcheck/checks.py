"""The vocabulary of checks a manifest may name, each with its tier and its test file.

A check listed here is implemented by the named test module, which records a result
for every (snippet, check) pair it exercises. At the end of a run, every declared pair
whose tier ran must have a recorded result (see tests/conftest.py), so a check cannot
be declared and silently never run.
"""

from __future__ import annotations

from dataclasses import dataclass

TIERS = ("inventory", "static", "service", "kit", "images", "compose", "site")


@dataclass(frozen=True)
class Check:
    tier: str
    test_file: str  # relative to the repository root
    what: str


CHECKS: dict[str, Check] = {
    # static tier: nothing running
    "hadolint": Check("static", "tests/static/test_hadolint.py",
                      "hadolint at warning threshold; for expect: fails, the rules in hadolint_rules are reported"),
    "yamllint": Check("static", "tests/static/test_yamllint.py", "yamllint with the repository's .yamllint"),
    "compose-config": Check("static", "tests/static/test_compose_config.py",
                            "docker compose config: no warnings, no unset variables, services per profile"),
    "kubeconform": Check("static", "tests/static/test_kubeconform.py",
                         "kubeconform -strict against offline schemas of several Kubernetes versions"),
    "actionlint": Check("static", "tests/static/test_actionlint.py", "actionlint (with shellcheck for run: blocks)"),
    "shellcheck": Check("static", "tests/static/test_shellcheck.py", "shellcheck on shell snippets"),
    "gofmt": Check("static", "tests/static/test_go.py", "gofmt -l reports nothing"),
    "go-vet": Check("static", "tests/static/test_go.py", "go vet (fragments: compiled in their own package)"),
    "parse": Check("static", "tests/static/test_parse.py", "parses in its format (TOML, JSON, YAML, SQL)"),
    # service tier: the Go service against real PostgreSQL and Redis
    "go-test": Check("service", "tests/service/test_go_service.py", "go test -race plus integration tests"),
    # images tier: a real Docker engine
    "image-build": Check("images", "tests/images/test_dockerfiles.py", "docker buildx build --load succeeds"),
    "image-run": Check("images", "tests/images/test_dockerfiles.py",
                       "the image runs as the text claims (probes, uid, shutdown, size)"),
    "image-antipattern": Check("images", "tests/images/test_antipatterns.py",
                               "the anti-pattern fails exactly the way the text says"),
    # compose tier
    "compose-up": Check("compose", "tests/compose/test_compose_up.py", "up --wait, behaviour probes, teardown"),
    "compose-antipattern": Check("compose", "tests/compose/test_compose_antipatterns.py",
                                 "the anti-pattern compose file misbehaves exactly the way the text says"),
}

EXPECTATIONS = ("works", "fails", "illustrative")
