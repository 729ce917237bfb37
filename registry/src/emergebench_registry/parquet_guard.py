"""Reading an untrusted Parquet file with bounded memory.

A Parquet file says how big its data will be once decompressed twice: in the footer (per column
chunk) and in each page header (the size the reader allocates before decompressing). A hostile file
can make either small and the data huge (a 24 KB zstd page can hold a 600 MB string), or make the
footer honest-looking and the page headers lie. So before any page is decompressed this module walks
every page header (Thrift compact protocol, read straight from the file) and enforces limits on the
sizes they declare; then it decodes one row group at a time, checking cell lengths as it goes.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

__all__ = ["Limits", "ParquetLimitError", "decode", "open_checked", "walk_pages"]


def _env_int(name: str, default: int) -> int:
    try:
        return int(os.environ.get(name, "") or default)
    except ValueError:
        return default


@dataclass(frozen=True)
class Limits:
    """What one shard may cost; each is overridable through its environment variable."""

    file_bytes: int = 256 * 1024**2  # EMERGEBENCH_MAX_SHARD_BYTES: the file on disk
    expanded_bytes: int = 128 * 1024**2  # EMERGEBENCH_MAX_SHARD_EXPANDED: all pages decompressed
    rows: int = 5_000_000  # EMERGEBENCH_MAX_SHARD_ROWS
    cell_bytes: int = 16 * 1024**2  # EMERGEBENCH_MAX_CELL_BYTES: one string value
    row_groups: int = 10_000
    pages: int = 1_000_000

    @classmethod
    def from_env(cls) -> Limits:
        base = cls()
        return cls(
            file_bytes=_env_int("EMERGEBENCH_MAX_SHARD_BYTES", base.file_bytes),
            expanded_bytes=_env_int("EMERGEBENCH_MAX_SHARD_EXPANDED", base.expanded_bytes),
            rows=_env_int("EMERGEBENCH_MAX_SHARD_ROWS", base.rows),
            cell_bytes=_env_int("EMERGEBENCH_MAX_CELL_BYTES", base.cell_bytes),
        )


class ParquetLimitError(ValueError):
    """The file is malformed or would cost more than its limits; the message says which."""


# -- Thrift compact protocol: just enough to read a PageHeader and skip what we do not need ----------
_STOP, _TRUE, _FALSE, _BYTE, _I16, _I32, _I64, _DOUBLE, _BINARY, _LIST, _SET, _MAP, _STRUCT = range(13)
_MAX_DEPTH = 16


class _Reader:
    def __init__(self, handle: object, offset: int, end: int) -> None:
        self.handle = handle
        self.pos = offset
        self.end = end
        self.buf = b""
        self.buf_start = offset

    def byte(self) -> int:
        index = self.pos - self.buf_start
        if index >= len(self.buf):
            if self.pos >= self.end:
                raise ParquetLimitError("a page header runs past the end of its column chunk")
            self.handle.seek(self.pos)  # type: ignore[attr-defined]
            self.buf = self.handle.read(min(4096, self.end - self.pos))  # type: ignore[attr-defined]
            self.buf_start = self.pos
            index = 0
            if not self.buf:
                raise ParquetLimitError("a page header is truncated")
        self.pos += 1
        return self.buf[index]

    def skip(self, count: int) -> None:
        if count < 0 or self.pos + count > self.end:
            raise ParquetLimitError("a page header field runs past the end of its column chunk")
        self.pos += count

    def varint(self) -> int:
        result = shift = 0
        while True:
            b = self.byte()
            result |= (b & 0x7F) << shift
            if not b & 0x80:
                return result
            shift += 7
            if shift > 63:
                raise ParquetLimitError("a page header holds an overlong integer")

    def zigzag(self) -> int:
        n = self.varint()
        return (n >> 1) ^ -(n & 1)

    def skip_value(self, kind: int, depth: int) -> None:
        if depth > _MAX_DEPTH:
            raise ParquetLimitError("a page header is nested too deeply")
        if kind in (_TRUE, _FALSE):
            return
        if kind == _BYTE:
            self.skip(1)
        elif kind in (_I16, _I32, _I64):
            self.varint()
        elif kind == _DOUBLE:
            self.skip(8)
        elif kind == _BINARY:
            self.skip(self.varint())
        elif kind in (_LIST, _SET):
            head = self.byte()
            size = head >> 4 if head >> 4 != 15 else self.varint()
            elem = head & 0x0F
            for _ in range(size):
                if elem in (_TRUE, _FALSE):
                    self.skip(1)
                else:
                    self.skip_value(elem, depth + 1)
        elif kind == _MAP:
            size = self.varint()
            if size:
                types = self.byte()
                for _ in range(size):
                    self.skip_value(types >> 4, depth + 1)
                    self.skip_value(types & 0x0F, depth + 1)
        elif kind == _STRUCT:
            self.struct(depth + 1, None)
        else:
            raise ParquetLimitError(f"a page header holds an unknown Thrift type {kind}")

    def struct(self, depth: int, wanted: dict[int, int] | None) -> None:
        """Read a struct, storing top-level integer fields listed in ``wanted`` (field id -> value)."""
        last = 0
        while True:
            head = self.byte()
            kind = head & 0x0F
            if kind == _STOP:
                return
            delta = head >> 4
            field_id = last + delta if delta else self.zigzag()
            last = field_id
            if wanted is not None and field_id in wanted and kind in (_I32, _I16, _I64):
                wanted[field_id] = self.zigzag()
            else:
                self.skip_value(kind, depth)


def walk_pages(path: str, meta: pq.FileMetaData, limits: Limits) -> int:
    """Total bytes the page headers declare once decompressed; raises before anything is decoded."""
    size = os.path.getsize(path)
    total = pages = 0
    with open(path, "rb") as handle:
        for rg in range(meta.num_row_groups):
            group = meta.row_group(rg)
            for col in range(group.num_columns):
                chunk = group.column(col)
                offsets = [chunk.data_page_offset]
                if chunk.has_dictionary_page:
                    offsets.append(chunk.dictionary_page_offset)
                offsets = [o for o in offsets if o]  # an empty chunk has only a dictionary page
                if not offsets and group.num_rows == 0:
                    continue  # pyarrow writes an empty table's chunks with no page at all: nothing to decode
                if not offsets:
                    raise ParquetLimitError(f"column chunk {rg}/{col} has no page offsets")
                start = min(offsets)
                end = start + chunk.total_compressed_size
                if start < 4 or chunk.total_compressed_size < 0 or end > size - 8:
                    raise ParquetLimitError(f"column chunk {rg}/{col} points outside the file")
                pos = start
                while pos < end:
                    reader = _Reader(handle, pos, end)
                    fields = {1: -1, 2: -1, 3: -1}
                    reader.struct(0, fields)
                    uncompressed, compressed = fields[2], fields[3]
                    if uncompressed < 0 or compressed < 0:
                        raise ParquetLimitError(f"column chunk {rg}/{col} has a page header without sizes")
                    if uncompressed > limits.expanded_bytes:
                        raise ParquetLimitError(
                            f"one page would expand to {uncompressed} bytes, above the "
                            f"{limits.expanded_bytes}-byte limit (EMERGEBENCH_MAX_SHARD_EXPANDED)"
                        )
                    total += uncompressed
                    pages += 1
                    if total > limits.expanded_bytes:
                        raise ParquetLimitError(
                            f"its pages would expand to more than {limits.expanded_bytes} bytes "
                            "(EMERGEBENCH_MAX_SHARD_EXPANDED); a compression bomb or a very large shard"
                        )
                    if pages > limits.pages:
                        raise ParquetLimitError(f"it has more than {limits.pages} pages")
                    pos = reader.pos + compressed
                if pos != end:
                    raise ParquetLimitError(f"column chunk {rg}/{col}'s pages overrun its declared size")
    return total


def open_checked(path: str, limits: Limits) -> pq.ParquetFile:
    """The file opened for reading once its size, footer and every page header are within ``limits``."""
    size = os.path.getsize(path)
    if size > limits.file_bytes:
        raise ParquetLimitError(
            f"{size} bytes is larger than the {limits.file_bytes}-byte limit for one shard "
            "(EMERGEBENCH_MAX_SHARD_BYTES)"
        )
    parquet = pq.ParquetFile(path, thrift_string_size_limit=1024**2, thrift_container_size_limit=100_000)
    meta = parquet.metadata
    if meta.num_rows > limits.rows:
        raise ParquetLimitError(f"claims {meta.num_rows} rows, more than the {limits.rows} allowed in one shard")
    if meta.num_row_groups > limits.row_groups:
        raise ParquetLimitError(f"has {meta.num_row_groups} row groups (at most {limits.row_groups})")
    declared = sum(
        meta.row_group(i).column(j).total_uncompressed_size
        for i in range(meta.num_row_groups)
        for j in range(meta.num_columns)
    )
    if declared > limits.expanded_bytes:
        raise ParquetLimitError(
            f"would expand to {declared} bytes, above the {limits.expanded_bytes}-byte limit "
            "(EMERGEBENCH_MAX_SHARD_EXPANDED)"
        )
    walk_pages(path, meta, limits)
    # Strings are read as dictionaries so a dictionary-encoded bomb (one long value, millions of
    # references) is measured before it is expanded.
    try:
        strings = [f.name for f in meta.schema.to_arrow_schema() if pa.types.is_string(f.type)]
    except (pa.ArrowException, OSError):
        return parquet  # the caller reports the unreadable schema
    return pq.ParquetFile(
        path, read_dictionary=strings, thrift_string_size_limit=1024**2, thrift_container_size_limit=100_000
    )


def decode(parquet: pq.ParquetFile, schema: pa.Schema, limits: Limits) -> pa.Table:
    """The data cast to ``schema``, decoded one row group at a time within the size limits.

    Before a row group is read, its fixed-width columns are bounded by rows x 8 bytes; once read,
    each string column (still a dictionary) is measured, cell by cell, as it would be once expanded,
    and only then expanded. The caller has compared the footer's schema with ``schema`` and called
    :func:`open_checked`.
    """
    meta = parquet.metadata
    fixed_columns = sum(1 for f in schema if not pa.types.is_string(f.type))
    total = 0
    parts = []
    for index in range(meta.num_row_groups):
        rows = meta.row_group(index).num_rows
        total += rows * 9 * fixed_columns  # 8 bytes a value plus validity, an upper bound
        _check_total(total, limits)
        group = parquet.read_row_group(index, use_threads=False)
        if group.num_rows != rows:
            raise ParquetLimitError(f"row group {index} holds {group.num_rows} rows but the footer says {rows}")
        columns = []
        for name in group.column_names:
            column = group[name]
            if pa.types.is_dictionary(column.type):
                total += _expanded_size(name, column, limits)
                _check_total(total, limits)
                column = pa.chunked_array([c.dictionary_decode() for c in column.chunks], column.type.value_type)
            columns.append(column)
        parts.append(pa.table(columns, names=group.column_names))
    table = pa.concat_tables(parts) if parts else schema.empty_table()
    return table.cast(schema) if table.schema != schema else table


def _check_total(total: int, limits: Limits) -> None:
    if total > limits.expanded_bytes:
        raise ParquetLimitError(
            f"its data would take more than {limits.expanded_bytes} bytes once decoded, above the limit "
            "(EMERGEBENCH_MAX_SHARD_EXPANDED); a compression bomb or a very large shard"
        )


def _expanded_size(name: str, column: pa.ChunkedArray, limits: Limits) -> int:
    """Bytes a dictionary-encoded string column takes once expanded; refuses an over-long cell."""
    size = 0
    for chunk in column.chunks:
        lengths = pc.binary_length(chunk.dictionary)
        longest = pc.max(lengths).as_py() if len(lengths) else None
        if longest is not None and longest > limits.cell_bytes:
            raise ParquetLimitError(
                f"column {name!r} holds a {longest}-byte value, above the {limits.cell_bytes}-byte limit "
                "per cell (EMERGEBENCH_MAX_CELL_BYTES)"
            )
        used = pc.sum(pc.take(lengths, chunk.indices)).as_py() if len(chunk) else 0
        size += (used or 0) + 5 * len(chunk)  # offsets and validity
    return size
