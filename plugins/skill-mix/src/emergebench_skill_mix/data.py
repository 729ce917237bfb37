"""Skill and topic lists: the bundled public subset or a user's private full lists, validated and hashed.

The hash of the exact bytes read is recorded with every run, because results on different lists (the public
10% subset vs. the authors' hidden 101 skills / 100 topics) must never be pooled.
"""

from __future__ import annotations

import csv
import hashlib
import io
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path

from emergebench import UsageError

REQUIRED_COLUMNS = ("skill", "definition", "example")
# Rows with these curation statuses are skipped, as the reference loader does (R utils.py get_skills_dict).
SKIPPED_STATUSES = frozenset({"remove", "in review", "maybe"})


@dataclass(frozen=True)
class Skill:
    name: str
    definition: str
    example: str
    category: str = ""


@dataclass(frozen=True)
class SkillList:
    skills: tuple[Skill, ...]
    source: str
    sha256: str

    @property
    def names(self) -> list[str]:
        return [s.name for s in self.skills]

    def get(self, name: str) -> Skill:
        for skill in self.skills:
            if skill.name == name:
                return skill
        raise KeyError(name)


@dataclass(frozen=True)
class TopicList:
    topics: tuple[str, ...]
    source: str
    sha256: str


def bundled_path(name: str) -> Path:
    """Path of a file shipped in the package's data folder."""
    return Path(str(files("emergebench_skill_mix") / "data" / name))


def _read_bytes(path: str | Path, what: str, option: str) -> bytes:
    p = Path(path).expanduser()
    if not p.is_file():
        raise UsageError(f"{what} file {str(path)!r} does not exist or is not a file; fix -T {option}=PATH")
    return p.read_bytes()


def _decode(raw: bytes, path: str | Path, option: str) -> str:
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise UsageError(f"{option} file {str(path)!r} is not UTF-8 text ({exc}); save it as UTF-8") from None


def parse_skills(text: str, source: str) -> list[Skill]:
    """Parse a skills CSV with at least the columns skill, definition, example (category, status optional)."""
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = [h.strip() for h in (reader.fieldnames or [])]
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if missing:
        raise UsageError(
            f"skills file {source!r} lacks the column(s) {', '.join(missing)} (found: {', '.join(header) or 'none'}); "
            "it needs a header row with at least skill,definition,example as in the bundled skills.csv"
        )
    reader.fieldnames = header
    skills: list[Skill] = []
    seen: set[str] = set()
    for line_no, row in enumerate(reader, start=2):
        if (row.get("status") or "").strip() in SKIPPED_STATUSES:
            continue
        name = (row.get("skill") or "").strip()
        if not name:
            raise UsageError(f"skills file {source!r}, row {line_no}: empty skill name; fill it in or delete the row")
        if name in seen:
            raise UsageError(f"skills file {source!r}, row {line_no}: skill {name!r} appears twice; keep one")
        seen.add(name)
        skills.append(
            Skill(
                name=name,
                definition=row.get("definition") or "",
                example=row.get("example") or "",
                category=(row.get("category") or "").strip(),
            )
        )
    if not skills:
        raise UsageError(f"skills file {source!r} lists no usable skills; it needs at least one data row")
    return skills


def load_skills(path: str | Path | None = None) -> SkillList:
    """The bundled public skills, or the CSV at ``path`` (``-T skills_file=``)."""
    real = bundled_path("skills.csv") if path is None else Path(path).expanduser()
    raw = _read_bytes(real, "skills", "skills_file")
    skills = parse_skills(_decode(raw, real, "skills_file"), str(real))
    return SkillList(
        tuple(skills), "bundled:skills.csv" if path is None else str(real), hashlib.sha256(raw).hexdigest()
    )


def load_topics(path: str | Path | None = None) -> TopicList:
    """The bundled public topics, or the one-topic-per-line file at ``path`` (``-T topics_file=``)."""
    real = bundled_path("topics.txt") if path is None else Path(path).expanduser()
    raw = _read_bytes(real, "topics", "topics_file")
    # Like the reference: split on '\n' and keep the non-empty lines; unlike it, drop a trailing '\r' so a
    # CRLF file does not put carriage returns into prompts.
    lines = [line.rstrip("\r") for line in _decode(raw, real, "topics_file").split("\n")]
    topics = [line for line in lines if line]
    if not topics:
        raise UsageError(f"topics file {str(real)!r} lists no topics; put one topic per line")
    dupes = sorted({t for t in topics if topics.count(t) > 1})
    if dupes:
        raise UsageError(f"topics file {str(real)!r} repeats topic(s) {dupes}; keep each once")
    return TopicList(
        tuple(topics), "bundled:topics.txt" if path is None else str(real), hashlib.sha256(raw).hexdigest()
    )
