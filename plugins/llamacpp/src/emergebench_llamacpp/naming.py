"""Read family, size and quantisation from a GGUF file name ('Qwen2.5-0.5B-Instruct-Q4_K_M.gguf')."""

from __future__ import annotations

import re

_SIZE_RE = re.compile(r"(?<![a-z0-9.x])(\d+(?:\.\d+)?)([bm])(?![a-z0-9])", re.IGNORECASE)
_QUANT_RE = re.compile(r"(?<![a-z0-9])(i?q\d(?:_[a-z0-9]+)*|f16|bf16|f32)(?![a-z0-9])", re.IGNORECASE)
_SCALE = {"b": 1e9, "m": 1e6}


def describe_file(filename: str) -> tuple[str | None, int | None, str | None]:
    """(family, parameters, quantization) where the name states them plainly, else None each."""
    stem = filename.rsplit("/", 1)[-1]
    stem = stem[: -len(".gguf")] if stem.lower().endswith(".gguf") else stem
    sizes = _SIZE_RE.findall(stem)
    parameters = None
    family = None
    if len(sizes) == 1:
        number, unit = sizes[0]
        parameters = int(round(float(number) * _SCALE[unit.lower()]))
        match = _SIZE_RE.search(stem)
        assert match is not None
        family = stem[: match.start()].strip("-_. ").lower() or None
    quant = _QUANT_RE.search(stem)
    return family, parameters, quant.group(1).upper() if quant else None
