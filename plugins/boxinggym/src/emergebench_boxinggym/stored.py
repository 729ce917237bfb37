"""Designs and observations in the stored output, as JSON that decodes to the very objects the world
used (tuples stay tuples, numpy scalars and arrays keep their dtype, floats their exact value), so
scoring can replay the posterior and the EIG of every design from the record alone.

A record is hostile input like any other: decoding accepts only these shapes and numeric dtypes.
"""

from __future__ import annotations

from typing import Any

import numpy as np

NUMERIC_KINDS = "biuf"  # bool, signed and unsigned integers, floats
MAX_DEPTH = 8


class StoredValueError(ValueError):
    """A stored design or observation that is not one this plugin writes."""


def encode(value: Any) -> Any:
    """A JSON-able form of a design or observation that :func:`decode` turns back into ``value``."""
    if isinstance(value, np.ndarray):
        return {"ndarray": value.tolist(), "dtype": value.dtype.str}
    if isinstance(value, np.generic):  # before float: numpy's float64 is a float
        return {"scalar": value.item(), "dtype": value.dtype.str}
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, tuple):
        return {"tuple": [encode(v) for v in value]}
    if isinstance(value, list):
        return [encode(v) for v in value]
    raise TypeError(f"cannot store a {type(value).__name__} as a design or observation")


def decode(value: Any, depth: int = 0) -> Any:
    if depth > MAX_DEPTH:
        raise StoredValueError("a stored design or observation is nested too deeply")
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, list):
        return [decode(v, depth + 1) for v in value]
    if isinstance(value, dict) and len(value) == 1 and isinstance(value.get("tuple"), list):
        return tuple(decode(v, depth + 1) for v in value["tuple"])
    if isinstance(value, dict) and set(value) in ({"ndarray", "dtype"}, {"scalar", "dtype"}):
        dtype = _dtype(value["dtype"])
        if "scalar" in value:
            if not isinstance(value["scalar"], bool | int | float):
                raise StoredValueError(f"a stored {dtype} scalar is {value['scalar']!r}")
            return dtype.type(value["scalar"])
        try:
            return np.asarray(value["ndarray"], dtype=dtype)
        except (TypeError, ValueError) as exc:
            raise StoredValueError(f"a stored {dtype} array does not convert: {exc}") from None
    raise StoredValueError(f"a stored design or observation has an unknown shape: {str(value)[:80]}")


def _dtype(text: Any) -> np.dtype[Any]:
    try:
        dtype = np.dtype(text) if isinstance(text, str) and len(text) <= 8 else None
    except TypeError:
        dtype = None
    if dtype is None or dtype.kind not in NUMERIC_KINDS:
        raise StoredValueError(f"a stored value has dtype {str(text)[:20]!r}; only numeric dtypes are stored")
    return dtype


def decode_data(value: Any) -> list[tuple[Any, Any]]:
    """The stored ``data`` of a trajectory: a list of [design, observation] pairs."""
    if not isinstance(value, list) or not all(isinstance(pair, list) and len(pair) == 2 for pair in value):
        raise StoredValueError("the stored data is not a list of [design, observation] pairs")
    return [(decode(design), decode(y)) for design, y in value]
