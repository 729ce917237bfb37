"""Each design's EIG and EIG regret, computed when a trajectory is scored: the posterior after the
data so far (sequential Monte Carlo, each step starting from the last) and the EIG of the scientist's
design against ``random_designs`` random ones, replayed from the stored data and the sample's seed.

Nothing here needs the models, only the world rebuilt from the seed and the data it produced, so a
re-scoring (``emergebench score``) gives the same numbers and a later estimator applies to old runs.
"""

from __future__ import annotations

from typing import Any

from .eig import EIGSettings, step_eig
from .envs.base import Goal
from .posterior import Posterior
from .trajectory import eig_rng


def replay_eig(goal: Goal, data: list[tuple[Any, Any]], seed: int, random_designs: int) -> list[dict[str, Any]]:
    """One entry per successful experiment, in order: its ``eig``, ``eig_random_max``, ``regret`` and
    the health of the posterior they came from (lowest stage ESS, distinct draws, stages, acceptance)."""
    env = goal.env
    paper = env.mode == "paper"
    posterior_is_prior = paper and getattr(goal, "paper_eig_posterior_is_prior", False)
    settings = EIGSettings(paper=paper)
    rng = eig_rng(seed)
    previous: Posterior | None = None
    steps = []
    for done, (design, _) in enumerate(data):
        step = step_eig(
            env,
            data[:done],
            design,
            rng,
            settings,
            random_designs,
            posterior_is_prior=posterior_is_prior,
            previous=previous,
        )
        previous = step.posterior
        steps.append(
            {
                "eig": step.eig,
                "eig_random_max": step.eig_random_max,
                "regret": step.regret,
                "posterior": step.posterior.summary(),
            }
        )
    return steps
