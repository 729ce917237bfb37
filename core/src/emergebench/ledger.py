"""What a run's result says about its samples, folded in as each (sample, epoch) becomes final.

The runner once kept every ``SampleResult`` until the end (its calls, prompt and output: ~6.5 KB per
sample) to count errors, calls and tokens and to compute the metrics. The ledger keeps counters and the
task's metric accumulator instead, so a run's memory does not grow with its results (issue #18). The
journal on disk stays the record of every sample.

Resuming reads the journal line by line with the journal's own rule (a key's first line without
error wins, else its first line): a good line is final at once; a failed one is held until the run
either recomputes it (the new result replaces it) or ends without doing so (it then counts as before).
Only failed samples of an earlier run are held, never the good ones.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Container
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .journal import iter_lines
from .records import Metric, SampleResult
from .scoring import RunMetrics
from .task import Task

Key = tuple[str, int]


@dataclass
class Resumed:
    """What the journal of a resumed run already holds: keys with a good result, and damaged lines."""

    good: set[Key] = field(default_factory=set)
    damaged: list[int] = field(default_factory=list)
    prior_cost: float = 0.0


class RunLedger:
    """Counts and metrics of a run's final results; ``add`` each (sample, epoch)'s final result once."""

    def __init__(self, task: Task[Any], grader: str | None, until_pass: bool = False) -> None:
        self.metrics = RunMetrics(task, grader, until_pass)
        self.samples = 0
        self.ok = 0
        self.errors: Counter[str] = Counter()
        self.model_calls = 0
        self.cached_calls = 0
        self.input_tokens = 0
        self.output_tokens = 0
        self._cost = 0.0
        self._priced = False
        self._held: dict[Key, SampleResult] = {}  # failed results of an earlier run, until recomputed

    def add(self, result: SampleResult) -> None:
        """A (sample, epoch)'s final result; it replaces a failed one read from the journal."""
        self._held.pop(result.key, None)
        self._count(result)

    def _count(self, result: SampleResult) -> None:
        self.samples += 1
        if result.error is None:
            self.ok += 1
        else:
            self.errors[result.error_type or "Error"] += 1
        for call in result.calls:
            if call.cached:
                self.cached_calls += 1
            else:
                self.model_calls += 1
            self.input_tokens += call.usage.input_tokens
            self.output_tokens += call.usage.output_tokens
            if call.cost_usd is not None:
                self._cost += call.cost_usd
                self._priced = True
        self.metrics.add(result)

    def resume(self, journal: Path, run_id: str, expected: Container[Key]) -> Resumed:
        """Fold in the results an earlier writer journaled for this run (only the ``expected`` keys)."""
        resumed = Resumed()
        for number, result in iter_lines(journal, run_id):
            if result is None:
                resumed.damaged.append(number)
                continue
            key = result.key
            if key not in expected or key in resumed.good:
                continue
            if result.error is None:
                resumed.good.add(key)
                failed = self._held.pop(key, None)
                if failed is not None:
                    resumed.prior_cost -= _cost(failed)
                resumed.prior_cost += _cost(result)
                self._count(result)
            elif key not in self._held:
                self._held[key] = result
                resumed.prior_cost += _cost(result)
        return resumed

    def close(self) -> None:
        """The run ends: earlier failures it did not recompute count as its results."""
        held, self._held = self._held, {}
        for result in held.values():
            self._count(result)

    @property
    def cost_usd(self) -> float | None:
        """Dollars paid for the calls that were priced; None when none was (unpriced models)."""
        return self._cost if self._priced else None

    def run_metrics(self) -> list[Metric]:
        """The task's metrics (raises what the task's accumulator raised)."""
        return self.metrics.metrics()


def _cost(result: SampleResult) -> float:
    return sum(c.cost_usd for c in result.calls if c.cost_usd is not None)
