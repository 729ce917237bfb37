"""Scripted model functions for the sweep tests, imported by the sweep's worker processes.

Every call is logged (one line: function name and prompt) to the file named by SWEEP_CALL_LOG, so a
test counts real model calls independently of the cache and journals. When SWEEP_GATE is set to N,
the calls after the first N logged ones block forever: the sweep freezes in a known state, ready to
be SIGKILLed with no call half done.
"""

from __future__ import annotations

import fcntl
import os
import time

from emergebench import GenerateConfig, Message


def _answer(name: str, messages: list[Message]) -> str:
    prompt = messages[-1].content
    path = os.environ["SWEEP_CALL_LOG"]
    gate = int(os.environ.get("SWEEP_GATE", "0") or 0)
    with open(path, "a+", encoding="utf-8") as log:
        fcntl.flock(log, fcntl.LOCK_EX)
        log.seek(0)
        seen = sum(1 for _ in log)
        if gate and seen >= gate:
            fcntl.flock(log, fcntl.LOCK_UN)
            while True:  # frozen until the test kills the sweep
                time.sleep(60)
        log.write(f"{name}\t{prompt}\n")
        log.flush()
    a, b = (int(x) for x in prompt.split("What is ")[1].split("?")[0].split(" + "))
    return str(a + b) if name != "model_d" else "0"


def model_a(messages: list[Message], config: GenerateConfig) -> str:
    return _answer("model_a", messages)


def model_b(messages: list[Message], config: GenerateConfig) -> str:
    return _answer("model_b", messages)


def model_c(messages: list[Message], config: GenerateConfig) -> str:
    return _answer("model_c", messages)


def model_d(messages: list[Message], config: GenerateConfig) -> str:
    return _answer("model_d", messages)
