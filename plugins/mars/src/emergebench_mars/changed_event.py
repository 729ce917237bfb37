"""Build a changed event from the original event and its substituted component.

The curation code (HKUST-KnowComp/MARS, ``benchmark_curation/5_inference_generation.py``) made the
changed event by lower-casing the event and the component, splitting both on whitespace, replacing
every occurrence of the component's tokens (left to right, without overlaps) by the substitution's
tokens, and joining with single spaces. A release that ships ``event``, ``component_original`` and
``component_substitution`` instead of the changed event gets the same text from ``substitute``.
"""

from __future__ import annotations

BUILD_ROLES = ("original_event", "component_original", "component_substitution")


def substitute(event: str, original: str, substitution: str) -> str | None:
    """The event with every whole-token occurrence of ``original`` replaced; None if it never occurs."""
    tokens = event.lower().split()
    needle = original.lower().split()
    replacement = substitution.lower().split()
    if not needle or not replacement:
        return None
    out: list[str] = []
    i = 0
    found = False
    while i < len(tokens):
        if tokens[i : i + len(needle)] == needle:
            out += replacement
            i += len(needle)
            found = True
        else:
            out.append(tokens[i])
            i += 1
    return " ".join(out) if found else None


def describe(columns: dict[str, str]) -> str:
    """How a built event was made, for provenance and messages."""
    return (
        f"{columns['original_event']} with {columns['component_original']} replaced by "
        f"{columns['component_substitution']}"
    )
