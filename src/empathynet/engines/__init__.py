"""Engines run a task over many items: a local process pool (default)."""

from empathynet.engines.local import LocalEngine

__all__ = ["LocalEngine"]
