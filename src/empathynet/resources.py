"""``Closing``: the context-manager protocol of everything that holds a file or a model."""

from __future__ import annotations

from abc import ABC, abstractmethod
from types import TracebackType
from typing import Self


class Closing(ABC):
    """``with thing: ...`` calls ``thing.setup()`` on entry and ``thing.close()`` on exit."""

    def setup(self) -> None:  # noqa: B027 - optional hook: most resources open at construction
        """Acquire what ``close`` releases, if not done at construction (idempotent)."""

    @abstractmethod
    def close(self) -> None:
        """Release the file or model (idempotent)."""

    def __enter__(self) -> Self:
        self.setup()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()
