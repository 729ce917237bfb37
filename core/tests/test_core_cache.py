"""The call cache's batched writes: an answer is served at once, committed within half a second
from async code (or at once from sync code), and every answer is committed by ``close``."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

from emergebench.cache import FLUSH_AFTER_S, CallCache
from emergebench.records import ModelOutput, Usage


def committed(path: Path) -> dict[str, str]:
    """What another process reading the file sees."""
    with sqlite3.connect(path) as db:
        return dict(db.execute("SELECT key, output FROM calls").fetchall())


def answer(text: str) -> ModelOutput:
    return ModelOutput(text=text, usage=Usage(input_tokens=3, output_tokens=1))


def test_sync_put_is_committed_at_once(tmp_path: Path) -> None:
    cache = CallCache(tmp_path / "c.sqlite")
    cache.put("k", answer("a"))
    assert set(committed(tmp_path / "c.sqlite")) == {"k"}
    cache.close()


def test_async_puts_are_served_at_once_and_committed_together(tmp_path: Path) -> None:
    path = tmp_path / "c.sqlite"
    cache = CallCache(path)

    async def main() -> tuple[dict[str, str], ModelOutput | None, dict[str, str]]:
        for i in range(10):
            cache.put(f"k{i}", answer(str(i)))
        before = committed(path)
        served = cache.get("k7")
        await asyncio.sleep(FLUSH_AFTER_S + 0.3)
        return before, served, committed(path)

    before, served, after = asyncio.run(main())
    assert before == {}, "nothing is committed per answer"
    assert served is not None and served.text == "7" and served.usage.input_tokens == 3
    assert set(after) == {f"k{i}" for i in range(10)}
    assert ModelOutput.model_validate_json(after["k3"]) == answer("3")
    cache.close()


def test_close_commits_what_waits(tmp_path: Path) -> None:
    path = tmp_path / "c.sqlite"
    cache = CallCache(path)

    async def main() -> None:
        cache.put("k", answer("x"))
        cache.put("k", answer("y"))  # the later answer wins, as INSERT OR REPLACE did
        cache.close()

    asyncio.run(main())
    assert {k: ModelOutput.model_validate_json(v).text for k, v in committed(path).items()} == {"k": "y"}
    again = CallCache(path)
    assert len(again) == 1 and again.get("k") == answer("y")
    again.close()


def test_a_new_event_loop_does_not_strand_answers(tmp_path: Path) -> None:
    """A timer armed on a loop that has finished never fires: the next write commits what waited."""
    path = tmp_path / "c.sqlite"
    cache = CallCache(path)

    async def put(key: str) -> None:
        cache.put(key, answer(key))

    asyncio.run(put("first"))
    asyncio.run(put("second"))
    assert "first" in committed(path)
    cache.close()
    assert set(committed(path)) == {"first", "second"}
