"""CoreDNS as the node's cluster DNS: its version, and its objects (coredns.yaml) with the image and the
address substituted.
"""

from __future__ import annotations

import json
import string
import subprocess
from pathlib import Path

import yaml

from ...model.paths import kube_cache_dir

MANIFEST = Path(__file__).with_name("coredns.yaml")


def coredns_version() -> str:
    out = subprocess.run([str(kube_cache_dir() / "coredns"), "-version"], capture_output=True, text=True, timeout=20)
    return out.stdout.split()[0].removeprefix("CoreDNS-") if out.stdout else "unknown"


def coredns_manifest(image: str, cluster_dns: str) -> str:
    """coredns.yaml with the image and the cluster DNS address substituted, as JSON documents for kubectl."""
    text = string.Template(MANIFEST.read_text(encoding="utf-8")).substitute(IMAGE=image, CLUSTER_DNS=cluster_dns)
    return "\n---\n".join(json.dumps(d) for d in yaml.safe_load_all(text) if d)
