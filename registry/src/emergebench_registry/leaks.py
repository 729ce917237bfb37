"""Finding secrets in a shard's decoded text before it leaves the machine.

A Parquet shard is compressed, so its bytes cannot be searched: the string columns are decoded and
searched with Arrow's vectorised matchers (RE2), which costs a fraction of the export itself.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

# A URL with a userinfo part (user:password@host) or a credential-like key in its query string.
CREDENTIAL_URL = (
    r"[a-z][a-z0-9+.-]*://[^\s/?#@\"'<>\\]+@"
    r"|[a-z][a-z0-9+.-]*://[^\s\"'<>\\]*[?&](?:api[-_]?key|apikey|key|token|access[-_]?token|auth|secret"
    r"|password|passwd|pwd|sig|signature)="
)


def _text_columns(table: pa.Table) -> list[str]:
    return [f.name for f in table.schema if pa.types.is_string(f.type) or pa.types.is_large_string(f.type)]


def find_leak(table: pa.Table, token: str | None = None) -> str | None:
    """Why ``table`` must not be published (naming the column, never the secret), or None."""
    for name in _text_columns(table):
        column = table[name]
        if token and pc.any(pc.match_substring(column, token)).as_py():
            return f"column {name!r} contains your Hub token"
        if pc.any(pc.match_substring_regex(column, CREDENTIAL_URL, ignore_case=True)).as_py():
            return f"column {name!r} holds a URL with credentials (user:password@host or a key in its query string)"
    return None


def shard_leak(path: Path, token: str | None = None) -> str | None:
    """``find_leak`` over one shard file."""
    return find_leak(pq.read_table(path), token)


def text_leak(data: bytes, token: str | None = None) -> str | None:
    """``find_leak`` for a text file about to be published (an Every Eval Ever record)."""
    import re

    text = data.decode("utf-8", errors="replace")
    if token and token in text:
        return "it contains your Hub token"
    if re.search(CREDENTIAL_URL, text, re.IGNORECASE):
        return "it holds a URL with credentials (user:password@host or a key in its query string)"
    return None
