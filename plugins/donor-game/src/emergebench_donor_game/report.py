"""One simulation as a stored output (every record of the run, exactly as played), and the scores
computed from that output: headline scores plus the per-generation and per-agent rows the paper's
plots need.

Scoring reads only the stored output, so ``emergebench score`` recomputes the scores (and any metric
added later) over old runs without playing the game again. Both are journaled and ingested into the
registry, so curves, donation heat maps and strategy texts can be queried after the run.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import asdict
from typing import Any

from emergebench import SampleOutput, SampleScore

from .engine import Encounter
from .settings import GameRules
from .simulation import AgentRecord, GenerationRecord, SimulationResult


def mean(values: Sequence[float]) -> float | None:
    return math.fsum(values) / len(values) if values else None


def slope(xs: Sequence[float], ys: Sequence[float]) -> float | None:
    """Least-squares slope of ys on xs; None with fewer than two points."""
    if len(xs) < 2:
        return None
    mx, my = mean(xs), mean(ys)
    assert mx is not None and my is not None
    sxx = math.fsum((x - mx) ** 2 for x in xs)
    return math.fsum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sxx


def _share(encounters: list[Encounter], attr: str) -> float | None:
    return mean([1.0 if getattr(e, attr) else 0.0 for e in encounters])


def _invalid_share(encounters: list[Encounter]) -> float | None:
    """Share of encounters whose amount was outside [0, donor resources] (nothing moved)."""
    return mean([0.0 if e.valid else 1.0 for e in encounters])


def _agent_fractions(encounters: list[Encounter]) -> dict[str, float]:
    """Mean donated fraction per donor over both games (0 for punishments and invalid actions)."""
    per: dict[str, list[float]] = defaultdict(list)
    for e in encounters:
        per[e.donor].append(e.fraction)
    return {name: math.fsum(v) / len(v) for name, v in per.items()}


def _selection_differential(gen: GenerationRecord, fractions: dict[str, float]) -> float | None:
    """Top half's mean donation minus the bottom half's, over the generation's mean donation."""
    half = len(gen.ranking) // 2
    top = mean([fractions.get(n, 0.0) for n in gen.ranking[:half]])
    bottom = mean([fractions.get(n, 0.0) for n in gen.ranking[half:]])
    overall = mean([fractions.get(n, 0.0) for n in gen.ranking])
    if top is None or bottom is None or not overall:
        return None
    return (top - bottom) / overall


def generation_rows(result: SimulationResult) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(one row per generation, one row per agent per generation)."""
    by_gen: dict[int, list[Encounter]] = defaultdict(list)
    for e in result.encounters:
        by_gen[e.generation].append(e)
    born = {a.name: a.born for a in result.agents}
    gens, agents = [], []
    for gen in result.generations:
        encounters = by_gen[gen.generation]
        fractions = _agent_fractions(encounters)
        gens.append(
            {
                "generation": gen.generation,
                "average": gen.average,
                "avg_game1": gen.avg_game1,
                "avg_game2": gen.avg_game2,
                "donation_fraction": mean([e.fraction for e in encounters]),
                "punishment_share": _share(encounters, "punished"),
                "invalid_share": _invalid_share(encounters),
                "failed_share": _share(encounters, "failed"),
                "selection_differential": _selection_differential(gen, fractions),
                "order": gen.order,
                "survivors": gen.survivors,
            }
        )
        for name in gen.order:
            agents.append(
                {
                    "generation": gen.generation,
                    "name": name,
                    "born": born[name],
                    "game1": gen.game1[name],
                    "game2": gen.game2[name],
                    "score": gen.scores[name],
                    "survived": None if gen.survivors is None else name in gen.survivors,
                    "donation_fraction": fractions.get(name, 0.0),
                }
            )
    return gens, agents


def summary(result: SimulationResult) -> str:
    last = result.generations[-1]
    return (
        f"average final resources {result.final_average:.6g} in generation {last.generation} "
        f"(game 1 {last.avg_game1:.6g}, game 2 {last.avg_game2:.6g})"
    )


def simulation_output(result: SimulationResult) -> SampleOutput:
    """What ``solve`` stores: the rules, every generation, agent (with its strategy) and encounter."""
    return SampleOutput(
        answer=summary(result),
        data={
            "rules": asdict(result.rules),
            "selection": result.selection,
            "generations": [asdict(g) for g in result.generations],
            "strategies": [asdict(a) for a in result.agents],
            "encounters": [e.as_dict() for e in result.encounters],
        },
    )


def simulation_from_output(data: dict[str, Any]) -> SimulationResult:
    """The SimulationResult a stored output was made from (the inverse of ``simulation_output``)."""
    return SimulationResult(
        rules=GameRules(**data["rules"]),
        selection=data["selection"],
        generations=[GenerationRecord(**g) for g in data["generations"]],
        agents=[AgentRecord(**a) for a in data["strategies"]],
        encounters=[Encounter(**e) for e in data["encounters"]],
    )


def sample_score(result: SimulationResult) -> SampleScore:
    """Headline scores of one simulation, with the per-generation and per-agent rows as details."""
    gens, agents = generation_rows(result)
    fractions = [g["donation_fraction"] or 0.0 for g in gens]
    trend = slope([float(g["generation"]) for g in gens], fractions)
    encounters = result.encounters
    scores: dict[str, float] = {
        "final_resources": result.final_average,
        "donation_fraction": mean([e.fraction for e in encounters]) or 0.0,
        "first_generation_donation": fractions[0],
        "punishment_share": _share(encounters, "punished") or 0.0,
        "invalid_share": _invalid_share(encounters) or 0.0,
        "failed_share": _share(encounters, "failed") or 0.0,
    }
    if trend is not None:
        scores["donation_fraction_slope"] = trend
    return SampleScore(scores=scores, metadata={"generations": gens, "agents": agents})
