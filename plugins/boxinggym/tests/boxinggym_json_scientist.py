"""A scripted scientist that answers predictions only in the constrained JSON form (item 14.12 tests)."""

from __future__ import annotations

from emergebench import GenerateConfig, Message
from emergebench.context import current_context
from emergebench_boxinggym.scripted import constant_scientist

SEEN: list[tuple[str, dict | None]] = []


def json_scientist(messages: list[Message], config: GenerateConfig) -> str:
    ctx = current_context.get()
    traj = ctx.state["boxinggym"]
    kind, _ = traj.lookup(messages) or ("unknown", None)
    SEEN.append((kind, config.response_format))
    if config.response_format is not None:
        return '{"answer": 3}'
    return constant_scientist(messages, config)
