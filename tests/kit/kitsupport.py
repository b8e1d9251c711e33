"""Helpers for the kit tests: a scratchpad of labelled Docker objects, and polling."""

from __future__ import annotations

import time

from snipcheck.harness.docker import cli as dk


class Scratchpad:
    """Containers, volumes and networks made by one test, labelled and removed afterwards."""

    def __init__(self) -> None:
        self.containers: list[str] = []
        self.volumes: list[str] = []
        self.networks: list[str] = []
        self.images: list[str] = []

    def name(self, what: str) -> str:
        return f"kit-{what}-{dk.RUN_ID}-{int(time.monotonic() * 1000) % 100000}"

    def volume(self) -> str:
        name = self.name("vol")
        dk.docker("volume", "create", "--label", f"{dk.RUN_LABEL}={dk.RUN_ID}", name, timeout=60)
        self.volumes.append(name)
        return name

    def network(self) -> str:
        name = self.name("net")
        dk.docker("network", "create", "--label", f"{dk.RUN_LABEL}={dk.RUN_ID}", name, timeout=60)
        self.networks.append(name)
        return name

    def create(self, image: str, *args: str, extra: tuple[str, ...] = ()) -> str:
        """`docker create` a labelled container (ports, if any, must be 127.0.0.1-only)."""
        cid = dk.docker(
            "create", "--label", f"{dk.RUN_LABEL}={dk.RUN_ID}", *extra, image, *args, timeout=60
        ).stdout.strip()
        self.containers.append(cid)
        return cid

    def start(self, image: str, *args: str, extra: tuple[str, ...] = ()) -> str:
        cid = self.create(image, *args, extra=extra)
        dk.docker("start", cid, timeout=60)
        return cid

    def cleanup(self, show_logs: bool) -> None:
        for cid in self.containers:
            if show_logs:
                print(f"--- logs of {cid[:12]} ---\n{dk.logs(cid)[-4000:]}")
            dk.remove_container(cid)
        for vol in self.volumes:
            dk.docker("volume", "rm", "-f", vol, timeout=60, check=False)
        for net in self.networks:
            dk.docker("network", "rm", net, timeout=60, check=False)
        for image in self.images:
            dk.remove_image(image)
