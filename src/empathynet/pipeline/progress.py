"""A small progress line on stderr: counts, rate and time left.

On a terminal it redraws one line; otherwise (logs, CI) it prints a line at most
every few seconds, so long builds show they are alive without flooding the log.
"""

from __future__ import annotations

import sys
import time
from types import TracebackType
from typing import TextIO


class Progress:
    """``with Progress("cutting cues", total=n) as bar: bar.advance(k)``."""

    def __init__(
        self,
        label: str,
        total: int,
        *,
        unit: str = "",
        enabled: bool = True,
        stream: TextIO | None = None,
        log_every_s: float = 5.0,
    ) -> None:
        self.label = label
        self.total = total
        self.unit = unit
        self.enabled = enabled and total > 0
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty()
        self.log_every_s = log_every_s
        self.done = 0
        self.accepted = 0
        self._started = time.monotonic()
        self._last_print = 0.0
        self._printed_done = -1  # ``done`` when the last line was printed

    def __enter__(self) -> Progress:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self.enabled:
            self._print(final=True)

    def advance(self, count: int = 1, *, accepted: int = 0) -> None:
        """Count ``count`` more items done (``accepted`` of them accepted, if relevant)."""
        self.done += count
        self.accepted += accepted
        if not self.enabled:
            return
        now = time.monotonic()
        if self.tty or now - self._last_print >= self.log_every_s:
            self._print()
            self._last_print = now

    def line(self) -> str:
        """The progress text: ``label: done/total unit [elapsed, left] (accepted)``."""
        elapsed = time.monotonic() - self._started
        percent = 100 * self.done / self.total if self.total else 100.0
        left = elapsed / self.done * (self.total - self.done) if self.done else None
        text = f"{self.label}: {self.done}/{self.total}"
        if self.unit:
            text += f" {self.unit}"
        text += f" ({percent:.0f}%) elapsed {_clock(elapsed)}"
        if left is not None and self.done < self.total:
            text += f", left ~{_clock(left)}"
        if self.accepted:
            text += f", accepted {self.accepted}"
        return text

    def _print(self, final: bool = False) -> None:
        if final and not self.tty and self._printed_done == self.done:
            return  # that line is already in the log
        self._printed_done = self.done
        if self.tty:
            end = "\n" if final else ""
            self.stream.write("\r\033[K" + self.line() + end)
        else:
            self.stream.write(self.line() + "\n")
        self.stream.flush()


def _clock(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes:02d}:{secs:02d}"
