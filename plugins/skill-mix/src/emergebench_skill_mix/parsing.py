"""Reading per-item points out of a grader's reply, in both rubric styles (R ``utils.py``, ``task.py``).

Nothing here raises on odd grader output: every problem is listed in ``ParsedPoints.problems`` (which marks
the grading as a parse failure), unreadable items score 0, and the points are normalised to k+3 the way the
reference's aggregation does (pad with zeros, truncate, all zeros when empty). The grader's own total is kept
for the record but never used for metrics.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

TABLE_INTRO = "Here's the grading table:"


@dataclass
class ParsedPoints:
    points: list[float]  # exactly k+3 values, normalised
    raw: list[float]  # the values as found, before normalisation
    reported_total: float | None = None
    problems: list[str] = field(default_factory=list)
    row_mapping: str = "order"  # "text" when table rows were matched to rubric items by their wording
    ignored_rows: list[str] = field(default_factory=list)  # extra table rows that match no rubric item

    @property
    def failed(self) -> bool:
        return bool(self.problems)


def normalise(values: list[float], n_items: int, problems: list[str]) -> list[float]:
    """Pad with zeros or truncate to ``n_items``; a length mismatch is recorded as a problem."""
    if len(values) == n_items:
        return list(values)
    if not values:
        problems.append(f"no points found for {n_items} rubric items (all scored 0)")
        return [0.0] * n_items
    if len(values) > n_items:
        problems.append(f"{len(values)} points for {n_items} rubric items (extra ones dropped)")
        return list(values[:n_items])
    problems.append(f"{len(values)} points for {n_items} rubric items (missing ones scored 0)")
    return list(values) + [0.0] * (n_items - len(values))


def _numerator(cell: str) -> str | float:
    """The reference's cell reading: keep digits, '.' and '/', take the numerator of 'x/y'. Unlike the reference
    (whose numerator pattern is integers only and crashes on '0.5/1'), a decimal numerator is read too.

    Returns '' for a cell with no number (the row is skipped, as in the reference) and raises ValueError for
    leftovers float() cannot read (where the reference would crash).
    """
    text = re.sub(r"[^0-9./]", "", cell.strip())
    match = re.match(r"(\d+(?:\.\d+)?)(?=/)", text)
    text = match.group(1) if match else text
    if not text:
        return ""
    return float(text)


def _norm_words(text: str) -> str:
    return " ".join(re.sub(r"[^a-z0-9]+", " ", text.lower()).split())


def _match_rows_to_items(keys: list[str], items: list[str]) -> dict[int, int] | None:
    """Map row index -> rubric item index by wording, or None when it is not unambiguous.

    A row matches an item when their normalised words are equal or one is a word-prefix of the other
    (graders often shorten "complex question (loaded question ...)"). Every item except the last (the sentence
    limit, recomputed anyway) must be matched by exactly one row; rows that match nothing are ignored.
    """
    norm_items = [_norm_words(i) for i in items]
    mapping: dict[int, int] = {}
    for r, key in enumerate(keys):
        nk = _norm_words(key)
        if not nk:
            continue
        hits = [i for i, ni in enumerate(norm_items) if nk == ni or ni.startswith(nk + " ") or nk.startswith(ni + " ")]
        if len(hits) > 1:
            exact = [i for i in hits if norm_items[i] == nk]
            hits = exact
        if len(hits) != 1:
            if hits:
                return None
            continue
        mapping[r] = hits[0]
    covered = list(mapping.values())
    if len(set(covered)) != len(covered):
        return None
    if any(i not in covered for i in range(len(items) - 1)):
        return None
    return mapping


def parse_table(output: str, items: list[str]) -> ParsedPoints:
    """GPT-4 style: the 'Criteria | Points Earned' table after "Here's the grading table:".

    Rows are read as the reference reads them (rows with '|', without '--' or 'criteria'; first cell is the key,
    second the value; a key containing 'total' is the grader's total). Values are then assigned to rubric items by
    their wording when that is unambiguous (so reordered, shortened or extra rows are handled), else by order,
    which is what the reference does.
    """
    problems: list[str] = []
    body = output.split(TABLE_INTRO)[-1].strip().split("Explanation:")[0].strip()
    rows: dict[str, float] = {}
    total: float | None = None
    for line in body.split("\n"):
        if "|" not in line or "--" in line or "criteria" in line.lower():
            continue
        cells = [c.strip() for c in line.split("|") if c.strip()]
        if len(cells) < 2:
            if cells:
                problems.append(f"table row without a points cell: {line.strip()[:80]!r}")
            continue
        key = cells[0].lower()
        try:
            value = _numerator(cells[1])
        except ValueError:
            problems.append(f"unreadable points {cells[1]!r} in row {cells[0][:60]!r} (scored 0)")
            value = 0.0
        if value == "":
            continue
        if "total" in key:
            total = float(value)
            continue
        if "score" in key:  # the reference drops these keys from the points as well
            continue
        if key in rows:
            problems.append(f"row {cells[0][:60]!r} appears twice (the last value kept)")
        rows[key] = float(value)
    if not rows and total is None:
        problems.append("no grading table found")
    keys, values = list(rows), list(rows.values())
    mapping = _match_rows_to_items(keys, items) if keys else None
    if mapping is not None:
        points = [0.0] * len(items)
        for r, i in mapping.items():
            points[i] = values[r]
        ignored = [keys[r] for r in range(len(keys)) if r not in mapping]
        return ParsedPoints(points, values, total, problems, row_mapping="text", ignored_rows=ignored)
    return ParsedPoints(normalise(values, len(items), problems), values, total, problems, row_mapping="order")


def _leading_number(text: str) -> float | None:
    match = re.match(r"\d+(?:\.\d+)?", text)
    return float(match.group(0)) if match else None


def parse_points_earned(output: str, items: list[str]) -> ParsedPoints:
    """LLaMA-2 style: the number after each 'earned:' (any case), the total after the last 'grade:'.

    As in the reference: first token of the line after the marker, numerator of 'x/y', trailing non-digits
    dropped. Unlike it, leading markdown or quotes ('**1**', '"1"') are dropped too instead of reading as 0.
    """
    problems: list[str] = []
    lowered = output.lower()
    values: list[float] = []
    for chunk in lowered.split("earned:")[1:]:
        first_line = chunk.strip().split("\n")[0]
        if not first_line:
            continue
        token = first_line.split(" ")[0].split("/")[0].lstrip("*_\"'`([")
        token = re.sub(r"[^0-9]+$", "", token)
        number = _leading_number(token) if token else None
        if number is None or re.fullmatch(r"\d+(?:\.\d+)?", token) is None:
            problems.append(f"unreadable point {first_line[:40]!r} (scored 0)")
            number = 0.0
        values.append(number)
    total = None
    if "grade:" in lowered:
        tail = lowered.split("grade:")[-1]
        found = re.search(r"\d+(?:\.\d+)?", tail)
        total = float(found.group(0)) if found else None
    return ParsedPoints(normalise(values, len(items), problems), values, total, problems)
