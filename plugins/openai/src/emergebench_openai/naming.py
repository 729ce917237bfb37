"""Guess a model's family and parameter count from its name, for pooled comparisons by size.

Only obvious cases are guessed ("llama-3.1-8b" -> family "llama-3.1", 8e9 parameters); anything else
stays unknown, and users override both with ``-M family=... -M parameters=...``.
"""

from __future__ import annotations

import re

_FAMILIES = (
    "llama",
    "qwen",
    "mistral",
    "mixtral",
    "gemma",
    "phi",
    "smollm",
    "deepseek",
    "gpt",
    "olmo",
    "falcon",
    "granite",
    "yi",
    "command-r",
    "claude",
    "gemini",
)
_FAMILY_RE = re.compile(
    r"(?<![a-z])(" + "|".join(re.escape(f) for f in _FAMILIES) + r")([-_ ]?\d+(?:\.\d+)*[a-z]?)?(?![0-9a-z])"
)
# A size token on its own, e.g. "8b", "0.5b", "135m", "1.7B", never "8x7b" (mixtures are not obvious).
_SIZE_RE = re.compile(r"(?<![a-z0-9.x])(\d+(?:\.\d+)?)([bm])(?![a-z0-9])")
_SCALE = {"b": 1e9, "m": 1e6}


def _base_name(name: str) -> str:
    """The last path segment, lower-cased: 'meta-llama/Llama-3.1-8B' -> 'llama-3.1-8b'."""
    return name.rsplit("/", 1)[-1].lower()


def guess_parameters(name: str) -> int | None:
    """Parameter count from a size token in the name, or None when there is none or several."""
    sizes = {(float(num), unit) for num, unit in _SIZE_RE.findall(_base_name(name))}
    if len(sizes) != 1:
        return None
    number, unit = sizes.pop()
    return int(round(number * _SCALE[unit]))


def guess_family(name: str) -> str | None:
    """Family with its version as written ('llama-3.1', 'qwen2.5', 'gpt-4o'), or None."""
    base = _base_name(name)
    match = _FAMILY_RE.search(base)
    if match is None:
        return None
    family = match.group(0).replace("_", "-").replace(" ", "-")
    if match.group(1) == "gpt":
        suffix = re.match(r"gpt-?\d+(?:\.\d+)?o?", base[match.start() :])
        family = suffix.group(0) if suffix else family
    return family
