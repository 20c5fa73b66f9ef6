"""A small generic registry: named implementations of one interface.

Face detectors, blur methods and baselines register themselves by name, so adding
one touches a single file::

    DETECTORS: Registry[type[FaceDetector]] = Registry("face detector")

    @DETECTORS.register("haar")
    class HaarDetector(FaceDetector): ...

A registry made with ``entry_points="empathynet.detectors"`` also holds what installed
packages declare in that entry-point group (``[project.entry-points."empathynet.detectors"]
mine = "my_package.module:MyDetector"``), loaded on first use.
"""

from __future__ import annotations

import importlib.metadata
from collections.abc import Callable, Iterator
from typing import Generic, TypeVar

from empathynet.errors import ConfigError

T = TypeVar("T")


class Registry(Generic[T]):
    """A name -> object mapping with clear errors for unknown or duplicate names."""

    def __init__(self, kind: str, entry_points: str | None = None) -> None:
        self.kind = kind
        self._items: dict[str, T] = {}
        #: the entry-point group third-party packages register implementations in
        self.entry_points = entry_points
        self._plugins_loaded = entry_points is None
        #: plugins that failed to load: name -> the one-line reason
        self.broken: dict[str, str] = {}

    def _load_plugins(self) -> None:
        """Register the implementations installed packages declare under the entry-point
        group, once. One that fails to load is kept in ``broken`` (``get`` names the
        failure); the others stay usable."""
        if self._plugins_loaded:
            return
        self._plugins_loaded = True
        for point in importlib.metadata.entry_points(group=str(self.entry_points)):
            if point.name in self._items:
                self.broken[point.name] = (
                    f"entry point {point.value} is named like a built-in {self.kind}"
                )
                continue
            try:
                self.add(point.name, point.load())
            except Exception as error:  # a third-party package: any import error
                self.broken[point.name] = (
                    f"entry point {point.value} failed to load: "
                    f"{type(error).__name__}: {' '.join(str(error).split())}"
                )

    def register(self, name: str) -> Callable[[T], T]:
        """Decorator that registers ``obj`` under ``name`` and returns it unchanged."""

        def decorate(obj: T) -> T:
            self.add(name, obj)
            return obj

        return decorate

    def add(self, name: str, obj: T) -> None:
        """Register ``obj`` under ``name``; a name can be registered once."""
        if not name or name != name.strip():
            raise ConfigError(f"invalid {self.kind} name {name!r}")
        if name in self._items:
            raise ConfigError(f"{self.kind} {name!r} is registered twice")
        self._items[name] = obj

    def get(self, name: str) -> T:
        """The object registered as ``name``; a ``ConfigError`` lists the known names."""
        self._load_plugins()
        if name in self.broken:
            raise ConfigError(f"{self.kind} {name!r}: {self.broken[name]}")
        try:
            return self._items[name]
        except KeyError:
            known = ", ".join(sorted(self._items)) or "none"
            raise ConfigError(f"unknown {self.kind} {name!r}; known: {known}") from None

    def names(self) -> list[str]:
        """Registered names, sorted."""
        self._load_plugins()
        return sorted(self._items)

    def __contains__(self, name: object) -> bool:
        self._load_plugins()
        return name in self._items

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def __len__(self) -> int:
        self._load_plugins()
        return len(self._items)
