"""``--cost-limit``: stop before the next call would spend past the limit, leaving a resumable run.

The next call's price is not known until it answers, so a budget refuses a call when what was spent
plus the dearest call seen so far for that model would pass the limit (the first call of a model
is estimated at 0). The stop is a ``BaseException``, like Ctrl-C: a task's ``except Exception``
cannot swallow it, and the runner ends the run as interrupted instead of recording failed samples.
"""

from __future__ import annotations

import threading
from typing import Any


class CostLimitReached(BaseException):
    def __init__(self, limit: float, spent: float) -> None:
        super().__init__(f"cost limit ${limit:.4f} reached (spent ${spent:.4f})")
        self.limit = limit
        self.spent = spent


class Budget:
    """A spending limit for one process. ``spent`` starts at what earlier sessions already paid."""

    def __init__(self, limit: float, spent: float = 0.0) -> None:
        self.limit = limit
        self._spent = spent
        self._dearest: dict[str, float] = {}
        self._lock = threading.Lock()

    @property
    def spent(self) -> float:
        return self._spent

    def before_call(self, model_id: str) -> None:
        if self.spent + self._dearest.get(model_id, 0.0) > self.limit:
            raise CostLimitReached(self.limit, self.spent)

    def charge(self, model_id: str, cost: float) -> None:
        with self._lock:
            self._add(cost)
            self._dearest[model_id] = max(self._dearest.get(model_id, 0.0), cost)

    def charge_prior(self, cost: float) -> None:
        """What earlier sessions paid (a resumed run's journal, a sweep's finished runs)."""
        with self._lock:
            self._add(cost)

    def _add(self, cost: float) -> None:
        self._spent += cost


class SharedBudget(Budget):
    """One budget for the processes of a sweep: the total lives in shared memory (a
    ``multiprocessing.Value``), so every worker sees what the others spent."""

    def __init__(self, limit: float, total: Any) -> None:
        super().__init__(limit)
        self._total = total

    @property
    def spent(self) -> float:
        return float(self._total.value)

    def _add(self, cost: float) -> None:
        with self._total.get_lock():
            self._total.value += cost
