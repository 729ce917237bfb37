"""Play a whole simulation against a Model object in-process, without the runner, its cache or journal.

For notebooks and tests that want the SimulationResult itself (every game's finals, the rankings)
rather than the journaled summary. The calls go through the same prompts and parsers as a run.
"""

from __future__ import annotations

import asyncio
import random
from typing import Any

from emergebench import Model, ModelHandle
from emergebench.context import RunServices

from .model_agents import agents_for
from .settings import DonorGameArgs, GameRules
from .simulation import SimulationResult, simulate


async def simulate_with_model(model: Model, args: DonorGameArgs | None = None, *, seed: int = 0) -> SimulationResult:
    """One simulation; ``seed`` drives the shuffles and the per-call sampling seeds."""
    args = args or DonorGameArgs()
    services = RunServices(cache=None, read_cache=False, call_slots=asyncio.Semaphore(64))
    handle = ModelHandle(model, role="subject", services=services, records=[], run_seed=seed, epoch=0)
    return await simulate(
        GameRules.from_args(args),
        agents_for(handle, args, seed),
        generations=args.generations,
        selection=args.selection,
        rng=random.Random(seed),
        shuffle=args.shuffle,
        show_scores=args.show_scores,
    )


def simulate_sync(model: Model, seed: int = 0, **options: Any) -> SimulationResult:
    """``simulate_with_model`` from synchronous code, with options given as ``-T`` keys."""
    return asyncio.run(simulate_with_model(model, DonorGameArgs(**options), seed=seed))
