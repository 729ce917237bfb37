"""The generation loop (spec section 2): strategies, two games, selection, inheritance.

Who the agents are is behind the ``Agents`` protocol: language models in a real run
(``model_agents.ModelAgents``), plain Python policies in tests.
"""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass, field
from typing import Protocol

from .engine import Decision, Encounter, EncounterView, GameResult, play_game
from .schedule import game_schedule, swap_roles
from .selection import rank, selection_score
from .settings import GameRules, Number


class Agents(Protocol):
    async def write_strategy(
        self, name: str, generation: int, advice: list[str] | None, scores: list[float] | None
    ) -> tuple[str, str]:
        """(strategy, justification) for a new agent; ``advice`` is None in generation 1."""
        ...

    async def decide(self, view: EncounterView, strategy: str) -> Decision: ...


@dataclass(frozen=True)
class AgentRecord:
    name: str
    born: int
    strategy: str
    justification: str


@dataclass
class GenerationRecord:
    generation: int
    order: list[str]
    game1: dict[str, Number]
    game2: dict[str, Number]
    scores: dict[str, float]
    ranking: list[str]
    survivors: list[str] | None

    @property
    def avg_game1(self) -> float:
        return sum(self.game1.values()) / len(self.game1)

    @property
    def avg_game2(self) -> float:
        return sum(self.game2.values()) / len(self.game2)

    @property
    def average(self) -> float:
        """The paper's per-generation measure: mean of the two games' all-agent averages."""
        return (self.avg_game1 + self.avg_game2) / 2


@dataclass
class SimulationResult:
    rules: GameRules
    selection: str
    generations: list[GenerationRecord] = field(default_factory=list)
    agents: list[AgentRecord] = field(default_factory=list)
    encounters: list[Encounter] = field(default_factory=list)

    @property
    def final_average(self) -> float:
        return self.generations[-1].average


def agent_name(generation: int, k: int) -> str:
    return f"{generation}_{k}"


async def _new_agents(
    agents: Agents, generation: int, count: int, advice: list[str] | None, scores: list[float] | None
) -> list[AgentRecord]:
    names = [agent_name(generation, k) for k in range(1, count + 1)]
    written = await asyncio.gather(*(agents.write_strategy(n, generation, advice, scores) for n in names))
    return [AgentRecord(n, generation, s, j) for n, (s, j) in zip(names, written, strict=True)]


async def simulate(
    rules: GameRules,
    agents: Agents,
    *,
    generations: int,
    selection: str = "paper",
    rng: random.Random | None = None,
    shuffle: bool = True,
    show_scores: bool = False,
) -> SimulationResult:
    """Run ``generations`` generations and return every record; deterministic given ``rng``."""
    rng = rng or random.Random(0)
    result = SimulationResult(rules=rules, selection=selection)
    pool = await _new_agents(agents, 1, rules.population, None, None)
    result.agents.extend(pool)
    if shuffle:
        rng.shuffle(pool)
    rounds = game_schedule(rules.population, rules.schedule)
    for generation in range(1, generations + 1):
        strategy = {a.name: a.strategy for a in pool}
        order = [a.name for a in pool]

        async def decide(view: EncounterView, strategy: dict[str, str] = strategy) -> Decision:
            return await agents.decide(view, strategy[view.donor])

        games: list[GameResult] = []
        for game, game_rounds in ((1, rounds), (2, swap_roles(rounds))):
            played = await play_game(order, game_rounds, rules, decide, generation=generation, game=game)
            games.append(played)
            result.encounters.extend(played.encounters)
        scores = {n: selection_score(games[0].final[n], games[1].final[n], selection) for n in order}
        ranking = rank(order, scores)
        last = generation == generations
        kept = None if last else ranking[: len(order) // 2]
        result.generations.append(
            GenerationRecord(generation, order, games[0].final, games[1].final, scores, ranking, kept)
        )
        if kept is None:
            break
        by_name = {a.name: a for a in pool}
        advice = [by_name[n].strategy for n in kept]
        newcomers = await _new_agents(
            agents, generation + 1, len(order) - len(kept), advice, [scores[n] for n in kept] if show_scores else None
        )
        result.agents.extend(newcomers)
        pool = [by_name[n] for n in kept] + newcomers
        if shuffle:
            rng.shuffle(pool)
    return result
