"""Model prices: token usage -> US dollars, from the shipped table and an optional user file.

The shipped table (``data/prices.toml``) names its source and date; a user file (``--prices FILE``,
``EMERGEBENCH_PRICES`` or ``<EMERGEBENCH_HOME>/prices.toml``) overrides or adds entries, e.g. to price a
private endpoint or to set a model to 0. Keys are model ids; ``*`` globs are allowed, and a name with a
dated snapshot suffix (``gpt-4o-2024-08-06``) falls back to its undated entry.
"""

from __future__ import annotations

import fnmatch
import os
import re
import tomllib
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path

from . import paths
from .errors import UsageError
from .records import Usage

_SNAPSHOT = re.compile(r"-\d{4}-\d{2}-\d{2}$")
PER_TOKENS = 1_000_000


@dataclass(frozen=True)
class Price:
    """US dollars per million tokens; ``batch_*`` apply to calls answered through a batch API."""

    input: float
    output: float
    batch_input: float | None = None
    batch_output: float | None = None

    def cost(self, usage: Usage, *, batch: bool = False) -> float:
        rate_in = self.batch_input if batch and self.batch_input is not None else self.input
        rate_out = self.batch_output if batch and self.batch_output is not None else self.output
        return (usage.input_tokens * rate_in + usage.output_tokens * rate_out) / PER_TOKENS


class PriceTable:
    def __init__(self, prices: dict[str, Price]) -> None:
        self.exact = {k: v for k, v in prices.items() if "*" not in k}
        # Longest pattern first: "openai/gpt-4o-mini*" must win over "openai/gpt-4o*".
        self.patterns = sorted(((k, v) for k, v in prices.items() if "*" in k), key=lambda kv: -len(kv[0]))

    def price(self, model_id: str) -> Price | None:
        for candidate in (model_id, _SNAPSHOT.sub("", model_id)):
            if candidate in self.exact:
                return self.exact[candidate]
        for pattern, price in self.patterns:
            if fnmatch.fnmatchcase(model_id, pattern):
                return price
        return None

    def cost(self, model_id: str, usage: Usage, *, batch: bool | None = False) -> float | None:
        price = self.price(model_id)
        return None if price is None else price.cost(usage, batch=bool(batch))


def parse_prices(text: str, where: str) -> dict[str, Price]:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"price file {where} is not valid TOML: {exc}") from None
    models = data.get("models", {})
    if not isinstance(models, dict):
        raise UsageError(f"price file {where}: [models] must be a table of model id -> {{input, output}}")
    prices = {}
    for model_id, entry in models.items():
        try:
            prices[model_id] = Price(**{k: float(v) for k, v in entry.items()})
            if min(v for v in vars(prices[model_id]).values() if v is not None) < 0:
                raise ValueError("prices cannot be negative")
        except (TypeError, ValueError, AttributeError) as exc:
            raise UsageError(
                f"price file {where}: entry {model_id!r} must be {{input = USD per 1M tokens, output = ...}} "
                f"(optional batch_input, batch_output): {exc}"
            ) from None
    return prices


def user_price_file(explicit: Path | None = None) -> Path | None:
    if explicit is not None:
        return explicit
    env = os.environ.get("EMERGEBENCH_PRICES")
    if env:
        return Path(env).expanduser()
    default = paths.home() / "prices.toml"
    return default if default.exists() else None


def load_prices(user_file: Path | None = None) -> PriceTable:
    """The shipped table, overridden entry by entry by the user's file (if any)."""
    shipped = files("emergebench").joinpath("data/prices.toml").read_text(encoding="utf-8")
    prices = parse_prices(shipped, "data/prices.toml (shipped)")
    path = user_price_file(user_file)
    if path is not None:
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise UsageError(f"cannot read price file {str(path)!r}: {exc}") from None
        prices.update(parse_prices(text, repr(str(path))))
    return PriceTable(prices)
