"""Family and size of a model named by another framework, so imported runs line up with native ones on
a scaling curve. First the user's table (``--models FILE``), then the rule every model ladder follows:
a size part in the name (``-135m``, ``-1.7B``, ``_7b``) gives the nominal parameter count, and the
name without it is the family (``SmolLM2-135M-Instruct`` -> family ``smollm2-instruct``, 135,000,000).

A user table is TOML with one ``[[model]]`` entry per rule: ``pattern`` (a case-insensitive regular
expression searched in the full model id), ``family`` and ``parameters`` (either may be left out).
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

from emergebench.errors import UsageError

_SIZE = re.compile(r"(?:^|[-_/.])(\d+(?:\.\d+)?)([mbk])(?=$|[-_/.])", re.IGNORECASE)
_SCALE = {"k": 1e3, "m": 1e6, "b": 1e9}


@dataclass
class ModelRule:
    pattern: re.Pattern[str]
    family: str | None
    parameters: int | None


def load_rules(path: Path | None) -> list[ModelRule]:
    if path is None:
        return []
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise UsageError(f"model table {path}: cannot be read as TOML ({exc})") from None
    rules = []
    for number, entry in enumerate(data.get("model", []), 1):
        if not isinstance(entry, dict) or not isinstance(entry.get("pattern"), str):
            raise UsageError(f"model table {path}: entry {number} needs a 'pattern' string")
        params = entry.get("parameters")
        if params is not None and (not isinstance(params, int) or params <= 0):
            raise UsageError(f"model table {path}: entry {number} has parameters {params!r}, not a positive integer")
        try:
            pattern = re.compile(entry["pattern"], re.IGNORECASE)
        except re.error as exc:
            raise UsageError(f"model table {path}: entry {number} pattern is not a regex ({exc})") from None
        rules.append(ModelRule(pattern, entry.get("family"), params))
    return rules


def rule_for(model_id: str, rules: list[ModelRule]) -> ModelRule | None:
    """The user's first rule matching the model id, if any."""
    return next((rule for rule in rules if rule.pattern.search(model_id)), None)


def family_and_size(model_id: str, rules: list[ModelRule]) -> tuple[str | None, int | None]:
    rule = rule_for(model_id, rules)
    if rule is not None:
        return rule.family, rule.parameters
    name = model_id.rsplit("/", 1)[-1]
    match = _SIZE.search(name)
    if match is None:
        return None, None
    parameters = int(float(match.group(1)) * _SCALE[match.group(2).lower()])
    family = (name[: match.start()] + name[match.end() :]).strip("-_./").lower() or None
    return family, parameters
