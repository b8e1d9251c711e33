"""Fixtures for the images tier: a Docker engine, base images, and a per-run build cache.

Base images come from the registry or the image kit (imagekit.ensure); a kit image reaches a build as a
named context (docker_buildkit.build), never as a tag on the upstream name in the Docker store.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from planting import planted_context, planted_files

from snipcheck.harness.docker import buildkit as docker_buildkit
from snipcheck.harness.docker import cli as dk
from snipcheck.model import dockerfile as dfile
from snipcheck.model.manifest import Snippet
from snipcheck.model.paths import SNIPPETS
from support import require, skip_needs_registry, slug


@dataclass
class Built:
    tag: str
    size: int
    seconds: float
    dockerfile: dfile.Dockerfile
    sources: dict[str, str] = field(default_factory=dict)
    planted: list[str] = field(default_factory=list)  # built from a planted context without .dockerignore


def image_sources(refs: list[str]) -> tuple[dict[str, str], list[str]]:
    """(source description per available ref, refs that are unavailable with why)."""
    from snipcheck.harness import imagekit  # the kit decides registry / local rebuild / stand-in

    result = imagekit.ensure(refs)
    sources, unavailable = {}, []
    for ref, src in result.items():
        if getattr(src, "available", True):
            sources[ref] = src.describe()
        else:
            unavailable.append(f"{ref}: {src.describe()}")
    return sources, unavailable


class Builder:
    """Builds each Dockerfile snippet once per run (tagged and labelled with the run id).

    A Dockerfile with the no-dockerignore scenario (a ❌ example that ships its whole context) is built once,
    from the context that scenario describes — a copy without a .dockerignore, with the planted files — and
    every check of it (image-build, image-run, the scenarios) reads that one image: the reader's project
    has a .git and a .env, and a second full compile of the same Dockerfile would prove nothing more.
    """

    def __init__(self, contexts: Path) -> None:
        self.cache: dict[tuple, Built] = {}
        self.contexts = contexts

    def build(
        self,
        snippet: Snippet,
        *,
        variant: str = "",
        context: Path | None = None,
        extra_args: dict[str, str] | None = None,
        secrets: tuple[str, ...] = (),
        platform: str | None = None,
        target: str | None = None,
    ) -> Built:
        settings = snippet.settings.get("build", {}) or {}
        args = {**(settings.get("args") or {}), **(extra_args or {})}
        target = target or settings.get("target")
        key = (snippet.path, variant, tuple(sorted(args.items())), platform, secrets, str(context), target)
        if key in self.cache:
            return self.cache[key]
        parsed = dfile.parse(snippet.file, args)
        sources, unavailable = image_sources(dfile.required_images(parsed))
        if unavailable:
            skip_needs_registry(snippet, "needs registry: " + "; ".join(unavailable))
        planted: list[str] = []
        if context is None and snippet.kind == "dockerfile" and "no-dockerignore" in scenarios(snippet):
            planted = planted_files(snippet)
            context = planted_context(snippet, self.contexts / slug(snippet.path), planted)
        ctx = context or (SNIPPETS / settings.get("context", str(Path(snippet.path).parent)))
        contexts = {}
        if platform:
            from snipcheck.harness import imagekit

            for ref in parsed.bases:
                if ref.split(":")[0] in imagekit.DATA_ONLY:
                    variant_tag = imagekit.platform_variant(ref, platform)
                    if variant_tag:
                        contexts[docker_buildkit.context_name(ref)] = f"docker-image://{variant_tag}"
        tag = f"snipcheck/{slug(snippet.path)}{('-' + variant) if variant else ''}:{dk.RUN_ID}"
        start = time.monotonic()
        try:
            docker_buildkit.build(
                ctx,
                tag,
                dockerfile=snippet.file,
                build_args=args,
                target=target,
                secrets=secrets,
                platform=platform,
                build_contexts=contexts,
            )
        except dk.DockerError as exc:
            pytest.fail(
                f"{snippet.where()}: snippets/{snippet.path} failed to build (context {ctx}):\n{exc}", pytrace=False
            )
        built = Built(tag, dk.image_size(tag), time.monotonic() - start, parsed, sources, planted)
        self.cache[key] = built
        return built


@pytest.fixture(scope="session")
def engine() -> None:
    problem = dk.engine_problem()
    require(problem is None, problem or "")


def scenarios(snippet: Snippet) -> list[str]:
    value = snippet.settings.get("scenario") or []
    return [value] if isinstance(value, str) else list(value)


@pytest.fixture(scope="session")
def builder(engine: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Builder]:
    b = Builder(tmp_path_factory.mktemp("contexts"))
    yield b
    dk.cleanup_run()
    left = {kind: dk.labelled(kind) for kind in ("container", "image", "network", "volume")}
    left = {k: v for k, v in left.items() if v}
    assert not left, f"objects labelled {dk.RUN_LABEL}={dk.RUN_ID} survived cleanup: {left}"


@pytest.fixture
def container_cleanup() -> Iterator[list[str]]:
    """Append container ids; they are removed (with their volumes) after the test."""
    ids: list[str] = []
    yield ids
    for cid in ids:
        dk.remove_container(cid)
