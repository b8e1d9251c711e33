"""golang:1.26-trixie / golang:1.26: the toolchain, its environment, cgo and static builds."""

from __future__ import annotations

import pytest

from snipcheck.harness import imagekit
from snipcheck.harness.docker import cli as dk

pytestmark = pytest.mark.kit

REFS = ["golang:1.26-trixie", "golang:1.26"]

# A cgo program and a pure one, built in the image (no network: no dependencies, GOTOOLCHAIN=local).
SCRIPT = r"""
set -eu
mkdir -p /tmp/w/cgo /tmp/w/pure
cd /tmp/w/cgo
cat > main.go <<'EOF'
package main

// #include <stdio.h>
// static int answer(void) { return 42; }
import "C"

import "fmt"

func main() { fmt.Println("cgo", int(C.answer())) }
EOF
go mod init example.com/cgo >/dev/null 2>&1
CGO_ENABLED=1 go build -o app .
./app
ldd ./app | grep -q 'libc.so.6' && echo cgo-dynamic
cd /tmp/w/pure
printf 'package main\n\nimport "fmt"\n\nfunc main() { fmt.Println("pure", 7) }\n' > main.go
go mod init example.com/pure >/dev/null 2>&1
CGO_ENABLED=0 go build -o app .
./app
if ldd ./app >/dev/null 2>&1; then echo pure-dynamic; else echo pure-static; fi
go version -m app | grep -o 'CGO_ENABLED=0'
printf 'int main(void){return 0;}\n' > t.c && gcc -o t t.c && ./t && echo gcc-ok
"""


@pytest.mark.timeout(120)
@pytest.mark.parametrize("ref", REFS)
def test_toolchain_and_environment(ref: str, kit_image, kit_sources) -> None:
    data = kit_image(ref, "kit-golang-env")
    out = dk.run_once(
        dk.stored(ref),
        "sh",
        "-c",
        "go version; go env GOTOOLCHAIN GOPATH GOROOT; pwd; "
        "echo $GOLANG_VERSION; stat -c %a /go/src /go/bin; "
        "for c in git curl make pkg-config gcc g++; do command -v $c; done",
        timeout=60,
    ).stdout.split()
    # the kit pins the patch release; the registry's golang:1.26 follows the newest 1.26.x
    want = imagekit.GO_VERSION if kit_sources[ref].kind == "local" else out[2].removeprefix("go")
    assert want.startswith("1.26.")
    assert " ".join(out[:4]) == f"go version go{want} linux/amd64"
    assert out[4:10] == ["local", "/go", "/usr/local/go", "/go", want, "1777"]
    assert out[10] == "1777"
    assert [p.rsplit("/", 1)[-1] for p in out[11:]] == ["git", "curl", "make", "pkg-config", "gcc", "g++"]
    env = dict(e.split("=", 1) for e in dk.inspect(dk.stored(ref))["Config"]["Env"])
    assert env["PATH"].startswith("/go/bin:/usr/local/go/bin:")
    assert env["GOTOOLCHAIN"] == "local" and env["GOPATH"] == "/go"
    # the kit's one addition to the environment, documented in its differences and on the kit page
    assert env.get("GOGC") == ("400" if kit_sources[ref].kind == "local" else None), env
    data["go_version"] = out[2]


@pytest.mark.timeout(600)
def test_cgo_and_static_builds(kit_image) -> None:
    ref = "golang:1.26-trixie"
    data = kit_image(ref, "kit-golang-builds")
    res = dk.run_once(dk.stored(ref), "sh", "-c", SCRIPT, extra=["--network", "none"], timeout=540)
    assert res.stdout.split() == ["cgo", "42", "cgo-dynamic", "pure", "7", "pure-static", "CGO_ENABLED=0", "gcc-ok"], (
        res.stdout + res.stderr
    )
    data["seconds_in_container"] = round(res.seconds, 1)


@pytest.mark.timeout(60)
def test_tags_are_one_image(kit_image, kit_sources) -> None:
    kit_image("golang:1.26", "kit-golang-alias")
    if kit_sources["golang:1.26"].kind == "registry":
        pytest.skip("upstream's golang:1.26 may be the trixie variant; only the kit aliases them")
    assert dk.inspect(dk.stored("golang:1.26"))["Id"] == dk.inspect(dk.stored("golang:1.26-trixie"))["Id"]


@pytest.mark.timeout(60)
def test_host_local_cas_only_when_the_host_has_them(kit_image, kit_sources) -> None:
    ref = "golang:1.26-trixie"
    data = kit_image(ref, "kit-golang-host-ca")
    if kit_sources[ref].kind != "local":
        pytest.skip("the registry image is upstream's, without host-local CAs")
    image = dk.stored(ref)
    inside = dk.run_once(image, "sh", "-c", "ls /usr/local/share/ca-certificates", timeout=60).stdout.split()
    host = imagekit.host_local_cas()
    assert len(inside) == len(host), (inside, host)
    assert all(any(name.endswith(p.name) for name in inside) for p in host)
    # the image says so itself, and only the kit's own name carries it (never golang:1.26-trixie)
    assert dk.image_label(image, imagekit.HOST_CA_LABEL) == (",".join(p.name for p in host) or None)
    assert image.startswith(imagekit.KIT_PREFIX)
    data["host_local_cas"] = inside
