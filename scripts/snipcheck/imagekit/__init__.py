"""The base-image kit: the images the snippets build FROM, with or without a registry.

Mode (env SNIPCHECK_IMAGES): `registry` pulls the real images, `local` rebuilds them from the
recipes in scripts/imagekit/, `auto` (default) uses the registry when it answers within a few
seconds and the kit otherwise. Every image gets an `ImageSource` that says where it came from:
a registry digest, a local rebuild (with its recipe hash), a stand-in (and what it really is),
or unavailable (and why). Kit images carry the label `io.snipcheck.recipe` (sha256 of the
recipe: Dockerfile, files, versions and the ids of the images it builds FROM) and are rebuilt
only when that hash changes.

CLI: python -m snipcheck.imagekit ensure-all | ensure REF... | table | mode   [--rebuild]

Modules: recipes (the recipe list), source (ImageSource, mode), build (hashes, lock, ensure),
fidelity (the table), platforms (foreign-architecture variants), __main__ (the CLI).
"""

from __future__ import annotations

from . import build, fidelity, platforms, recipes, source
from .build import all_refs, docker, ensure, host_ca_bundle, host_local_cas, image_id, recipe_hash, source_of
from .fidelity import table
from .platforms import DATA_ONLY, platform_variant
from .recipes import (
    BY_REF,
    DESCRIPTION_LABEL,
    GO_VERSION,
    MODE_ENV,
    MODES,
    RECIPE_LABEL,
    RECIPES,
    STANDIN_LABEL,
    Recipe,
)
from .source import ImageSource, mode, registry_reachable, requested_mode

__all__ = [
    "BY_REF",
    "DATA_ONLY",
    "DESCRIPTION_LABEL",
    "GO_VERSION",
    "MODES",
    "MODE_ENV",
    "RECIPES",
    "RECIPE_LABEL",
    "STANDIN_LABEL",
    "ImageSource",
    "Recipe",
    "all_refs",
    "build",
    "docker",
    "ensure",
    "fidelity",
    "host_ca_bundle",
    "host_local_cas",
    "image_id",
    "mode",
    "platform_variant",
    "platforms",
    "recipe_hash",
    "recipes",
    "registry_reachable",
    "requested_mode",
    "source",
    "source_of",
    "table",
]
