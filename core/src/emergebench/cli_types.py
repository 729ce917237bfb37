"""Typed, bounded click parameters shared by the core's and the plugins' commands.

Every value a user types is checked by click before anything runs, so a bad value is a one-line usage
error naming the option, never a traceback or a run whose every sample then fails.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

# Stored as DuckDB BIGINT (signed 64-bit) by the registry: a larger seed would be accepted by Python
# and then break every registry command.
MAX_SEED = 2**63 - 1
# Sample counts (``--limit``, ``--epochs``) above this are typing mistakes, not benchmarks.
MAX_SAMPLES = 2**31 - 1
MAX_EPOCHS = 10_000
MAX_TIMEOUT_S = 7 * 24 * 3600.0
MAX_DOLLARS = 1e9


class FiniteFloatRange(click.ParamType):  # type: ignore[type-arg]
    """A float in (low, high]: click's FloatRange lets NaN through (every comparison with NaN is false)."""

    def __init__(self, low: float, high: float, unit: str = "seconds") -> None:
        self.low, self.high, self.unit = low, high, unit
        self.name = unit

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> float:
        try:
            number = float(value)
        except (TypeError, ValueError):
            self.fail(f"{value!r} is not a number", param, ctx)
        if not math.isfinite(number) or not self.low < number <= self.high:
            self.fail(
                f"{value!r} is not a number of {self.unit} above {self.low:g} and at most {self.high:g}", param, ctx
            )
        return number


@dataclass(frozen=True)
class FailureAllowance:
    """How many failed samples a run may have and still exit 0: a count, or a share of the expected samples."""

    count: int | None = None
    percent: float | None = None

    def allowed(self, n_expected: int) -> int:
        if self.percent is not None:
            return math.floor(n_expected * self.percent / 100 + 1e-9)
        return self.count or 0

    def __str__(self) -> str:
        return f"{self.percent:g}%" if self.percent is not None else str(self.count or 0)


class FailureAllowanceType(click.ParamType):  # type: ignore[type-arg]
    """``--max-failures N`` (a count) or ``--max-failures P%`` (a share of the expected samples)."""

    name = "N|P%"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> FailureAllowance:
        if isinstance(value, FailureAllowance):
            return value
        text = str(value).strip()
        try:
            if text.endswith("%"):
                percent = float(text[:-1])
                if math.isfinite(percent) and 0 <= percent <= 100:
                    return FailureAllowance(percent=percent)
            else:
                count = int(text)
                if 0 <= count <= MAX_SAMPLES:
                    return FailureAllowance(count=count)
        except ValueError:
            pass
        self.fail(f"{value!r} is neither a count (e.g. 3) nor a percentage from 0% to 100% (e.g. 5%)", param, ctx)


def file_in_existing_folder(ctx: click.Context, param: click.Parameter, value: Any) -> Any:
    """Callback for a file option that may not exist yet: its folder must, so the error is clear."""
    if value is None:
        return value
    path = Path(value).expanduser()
    if path.is_dir():
        raise click.BadParameter(f"{str(value)!r} is a folder; give a file path inside it", ctx, param)
    if not path.parent.is_dir():
        problem = "is not a folder" if path.parent.exists() else "does not exist"
        raise click.BadParameter(
            f"the folder {str(path.parent)!r} {problem}; create it first or choose another path", ctx, param
        )
    return value
