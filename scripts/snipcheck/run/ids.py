"""The run's ids: one per test run, and one per process of it."""

from __future__ import annotations

import os
import uuid

# One id per test run, shared with xdist workers through the environment (the report's fragments)…
RUN_BASE = os.environ.get("SNIPCHECK_RUN_ID") or f"r{uuid.uuid4().hex[:10]}"
# …and one per process for Docker objects (tags, names, labels), so that parallel workers never share a
# tag or remove each other's objects when they clean up.
RUN_ID = RUN_BASE + (f"-{os.environ['PYTEST_XDIST_WORKER']}" if os.environ.get("PYTEST_XDIST_WORKER") else "")
