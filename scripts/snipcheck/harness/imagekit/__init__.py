"""The base-image kit: the images the snippets build FROM, with or without a registry.

Mode (env SNIPCHECK_IMAGES): `registry` pulls the real images, `local` rebuilds them from the
recipes in scripts/imagekit/, `auto` (default) uses the registry when it answers within a few
seconds and the kit otherwise (decided once; a failed pull in registry mode is a failure, never
a silent switch to the kit). Every image gets an `ImageSource` that says where it came from:
a registry digest, a local rebuild (with its recipe hash), a stand-in (and what it really is),
or unavailable (and why). Kit images carry the label `io.snipcheck.recipe` (sha256 of the
recipe: Dockerfile, files, versions and the ids of the images it builds FROM) and are rebuilt
only when that hash changes.

The kit's images are stored as `snipcheck.local/<upstream name>` only (local_name); the Docker
store's upstream names are the user's and never created, tagged or moved. Builds get the kit's
images through BuildKit named contexts (`--build-context golang:1.26-trixie=docker-image://
snipcheck.local/golang:1.26-trixie`, and `BUILDKIT_SYNTAX` for `# syntax=`): docker_buildkit.build asks
stands_in() for every image a Dockerfile names; the compose tier writes the same into its override.

CLI: python -m snipcheck kit ensure-all | ensure REF... | table | mode | remove [--dry-run]
     [--rebuild]

Modules: recipes (the recipe list), source (ImageSource, mode), build (hashes, lock, ensure),
fidelity (the table), platforms (foreign-architecture variants), __main__ (the CLI).
"""

from __future__ import annotations

from . import build, fidelity, platforms, recipes, source
from .build import (
    all_refs,
    docker,
    ensure,
    host_ca_bundle,
    host_local_cas,
    image_id,
    kit_images,
    owned,
    recipe_hash,
    remove,
    source_of,
    stands_in,
)
from .fidelity import table
from .platforms import DATA_ONLY, platform_variant
from .recipes import (
    BY_REF,
    DESCRIPTION_LABEL,
    GO_VERSION,
    HOST_CA_LABEL,
    KIT_LABEL,
    KIT_PREFIX,
    MODE_ENV,
    MODES,
    RECIPE_LABEL,
    RECIPES,
    STANDIN_LABEL,
    Recipe,
    familiar,
    local_name,
    recipe_for,
)
from .source import ImageSource, mode, registry_reachable, requested_mode

__all__ = [
    "BY_REF",
    "DATA_ONLY",
    "DESCRIPTION_LABEL",
    "GO_VERSION",
    "HOST_CA_LABEL",
    "KIT_LABEL",
    "KIT_PREFIX",
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
    "familiar",
    "fidelity",
    "host_ca_bundle",
    "host_local_cas",
    "image_id",
    "kit_images",
    "local_name",
    "mode",
    "owned",
    "platform_variant",
    "platforms",
    "recipe_for",
    "recipe_hash",
    "recipes",
    "registry_reachable",
    "remove",
    "requested_mode",
    "source",
    "source_of",
    "stands_in",
    "table",
]
