"""Tests of empathynet.media (a package, so its conftest does not shadow tests/conftest.py)."""
