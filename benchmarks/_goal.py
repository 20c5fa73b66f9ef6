"""A benchmark's goal, checked at the end of its one run: prints the goal, the measured
value and PASS or MISS, so that the script can exit 1 when a goal is missed and a
regression shows in its exit code (``python benchmarks/X.py && echo ok``)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Goal:
    """One measured figure against its goal: ``measured >= target`` when ``at_least``,
    else ``measured < target``."""

    name: str
    measured: float
    target: float
    unit: str = ""
    at_least: bool = True

    @property
    def met(self) -> bool:
        return self.measured >= self.target if self.at_least else self.measured < self.target

    def line(self) -> str:
        relation = ">=" if self.at_least else "<"
        unit = f" {self.unit}" if self.unit else ""
        verdict = "PASS" if self.met else "MISS"
        return (
            f"goal {self.name}: measured {self.measured:.3g}{unit} "
            f"(goal {relation} {self.target:g}{unit}): {verdict}"
        )


def report_goals(goals: Iterable[Goal]) -> int:
    """Print one line per goal; the exit code: 0 when every goal is met, else 1."""
    checked = list(goals)
    for goal in checked:
        print(goal.line())
    missed = [goal.name for goal in checked if not goal.met]
    print(
        f"goals: {len(checked) - len(missed)}/{len(checked)} met"
        + (f"; MISSED: {', '.join(missed)}" if missed else "")
    )
    return 1 if missed or not checked else 0
