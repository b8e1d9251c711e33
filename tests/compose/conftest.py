"""Registers the compose tier's `stack` fixture (defined in compose_stack.py)."""

from compose_stack import stack  # noqa: F401
