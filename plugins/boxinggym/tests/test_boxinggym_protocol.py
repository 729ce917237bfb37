"""The interaction protocol, design validation, answer parsing, and full deterministic runs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from emergebench import GenerateConfig, Message, UsageError
from emergebench.runner import RunOptions, build_spec, run_sync
from emergebench_boxinggym import prompts
from emergebench_boxinggym.envs import ENVIRONMENTS, DesignError
from emergebench_boxinggym.norms import fixed_norm

SCRIPTED = {"function": "emergebench_boxinggym.scripted:constant_scientist"}


def run(home: Path, task: str, model: str = "scripted/function", model_args: dict | None = None, **args):
    spec = build_spec(task, model, task_args=args, model_args=SCRIPTED if model_args is None else model_args, seed=7)
    return run_sync(spec, RunOptions(runs_dir=home / "runs", cache_path=home / "cache.db", progress=False))


def metrics(result) -> dict:
    return {(m.name, m.group): m.value for m in result.metrics}


@pytest.mark.parametrize(
    ("text", "ok"),
    [
        ("<observe>[1, 2]</observe>", "[1, 2]"),
        ("<observe>\n 0.5 \n</observe>", "0.5"),
        ("<observe>no digits</observe>", None),
        ("<observe>done 5</observe>", None),
        ("[1, 2]", None),
    ],
)
def test_observe_extraction_rules(text: str, ok: str | None) -> None:
    assert prompts.extract(prompts.OBSERVE_RE, text) == ok


@pytest.mark.parametrize(
    ("env", "good", "bad"),
    [
        ("location_finding", "[0.5, -1]", "[1, 2, 3]"),
        ("hyperbolic_discounting", "[10, 20, 30]", "[30, 20, 10]"),
        ("death_process", "1.5", "2.5"),
        ("irt", "[1, 2]", "[6, 0]"),
        ("survival", "42", "100"),
        ("dugongs", "2.5", "-1"),
        ("peregrines", "1.5", "7"),
        ("lotka_volterra", "12", "51"),
        ("moral_machines", "Group 1: [boy, dog]\nGroup 2: [old_man]\nIntervention: swerve", "Group 1: [robot]"),
        (
            "emotion",
            "prizes: [10, 50, 90], probs: [0.2, 0.5, 0.3], win: 2",
            "prizes: [10, 50, 90], probs: [0.5, 0.5, 0.3], win: 2",
        ),
    ],
)
def test_design_validation(env: str, good: str, bad: str) -> None:
    world = ENVIRONMENTS[env](np.random.default_rng(0), phrase=False)
    design = world.validate(good)
    assert world.validate(world.format_design(design)) is not None  # a formatted design reads back
    with pytest.raises(DesignError):
        world.validate(bad)


def test_irt_held_out_pairs_cannot_be_queried() -> None:
    world = ENVIRONMENTS["irt"](np.random.default_rng(0))
    points = world.goals["direct"](world).eval_points(np.random.default_rng(1), 10)
    s, q = points[0].query
    with pytest.raises(DesignError, match="cannot query"):
        world.validate(f"[{s}, {q}]")


def test_answer_parsing_fixed_versus_paper() -> None:
    world = ENVIRONMENTS["hyperbolic_discounting"](np.random.default_rng(0), "paper")
    goal = world.goals["direct"](world)
    assert goal.parse("10") == 1  # the reference checks "1" in the text first
    world.mode = "fixed"
    assert goal.parse("10") is None and goal.parse(" 0 ") == 0 and goal.parse("1") == 1
    emo = ENVIRONMENTS["emotion"](np.random.default_rng(0))
    g = emo.goals["direct"](emo)
    assert g.parse("Happiness: 7/9\nSadness: 2/9").tolist()[:3] == [7, 2, 5]
    emo.mode = "paper"
    assert g.parse("Happiness: 7/9\nSadness: 2/9") is None


def test_bad_task_args_are_clear() -> None:
    with pytest.raises(UsageError, match="choose one of direct, source"):
        build_spec("boxinggym/location_finding", "scripted/constant", task_args={"goal": "nope"})
    with pytest.raises(UsageError, match="only with the real-world prior"):
        build_spec("boxinggym/emotion", "scripted/constant", task_args={"prior": False})
    with pytest.raises(UsageError, match="budgets"):
        build_spec("boxinggym/irt", "scripted/constant", task_args={"budgets": "0,x"})


def test_constant_scientist_exact_metrics(emergebench_home: Path) -> None:
    """Balanced eval sets and a constant answer give error 0.5 exactly, in both modes."""
    fixed = metrics(run(emergebench_home, "boxinggym/irt", budgets="0,2", seeds=2, eig=False))
    mu, sigma = fixed_norm("irt", "direct")
    assert fixed[("err", "budget=0")] == 0.5 and fixed[("err", "budget=2")] == 0.5
    assert fixed[("z_final", None)] == pytest.approx((0.5 - mu) / sigma)
    paper = metrics(
        run(emergebench_home, "boxinggym/hyperbolic_discounting", budgets="1", seeds=2, eig=False, mode="paper")
    )
    assert paper[("err", "budget=1")] == 0.5  # paper mode reports accuracy
    assert paper[("z_final", None)] == pytest.approx(1.0)  # 1 - (0.5 - 0.5) / 0.4693
    surv = metrics(run(emergebench_home, "boxinggym/survival", budgets="1", seeds=1, eig=False, mode="paper"))
    assert surv[("z_final", None)] == pytest.approx(1 - (0.5 - 0.2604) / 0.4389)


def test_same_seed_same_metrics_and_eig(emergebench_home: Path) -> None:
    args = {"budgets": "0,2", "seeds": 1, "random_designs": 5, "num_evals": 3}
    a = run(emergebench_home, "boxinggym/death_process", **args)
    b = run(emergebench_home / "again", "boxinggym/death_process", **args)
    assert metrics(a) == metrics(b)
    assert ("eig_regret", None) in metrics(a)


def test_history_excludes_predictions_and_retries_follow_the_limits(emergebench_home: Path) -> None:
    """A scientist that first ignores the tags, then proposes an invalid design, then a valid one."""
    seen: list[list[Message]] = []

    def scientist(messages: list[Message], config: GenerateConfig) -> str:
        seen.append(list(messages))
        last = messages[-1].content
        if "<answer>" in last:
            return "<answer>3</answer>"
        turn = sum(1 for m in messages if m.role == "assistant")
        return ["I refuse", "<observe>5</observe>", "<observe>0.5</observe>"][min(turn, 2)]

    import emergebench_boxinggym.scripted as mod

    mod._test_scientist = scientist  # type: ignore[attr-defined]
    result = run(
        emergebench_home,
        "boxinggym/death_process",
        model_args={"function": "emergebench_boxinggym.scripted:_test_scientist"},
        budgets="0,1,2",
        seeds=1,
        eig=False,
        num_evals=2,
    )
    assert result.n_errors == 0
    experiment_calls = [m for m in seen if "<answer>" not in m[-1].content]
    # experiment 1: a format retry, then a rejected design whose error comes back as the result
    assert experiment_calls[1][-1].content == prompts.OBSERVE_REMINDER
    assert experiment_calls[2][-1].content.startswith("Result: The time must be greater than 0")
    # prediction questions never reach later experiment prompts
    assert not any(
        "following format" in m.content or m.content == "<answer>3</answer>" for c in experiment_calls for m in c
    )
    journal = metrics(result)
    assert set(g for n, g in journal if n == "z") == {"budget=0", "budget=1", "budget=2"}


def test_discovery_uses_the_grader_model_as_novice(emergebench_home: Path) -> None:
    spec = build_spec(
        "boxinggym/peregrines",
        "scripted/function",
        model_args=SCRIPTED,
        grader_model="boxinggym/prior-mean",
        task_args={"experiment": "discovery", "budgets": "2", "seeds": 1, "eig": False, "num_evals": 3},
    )
    result = run_sync(spec, RunOptions(runs_dir=emergebench_home / "r", cache_path=emergebench_home / "c.db"))
    m = metrics(result)
    assert ("z_comm", None) in m and ("z", "budget=2") not in m
    from emergebench.journal import iter_journal

    rows = list(
        iter_journal(
            next(p for p in (emergebench_home / "r").iterdir() if not p.name.startswith(".")) / "journal.jsonl"
        )
    )
    roles = {c.role for c in rows[0].calls}
    assert roles == {"subject", "novice"}
    assert rows[0].output["explanation"] == "The response does not depend on the input."


def test_moral_machines_phrasing_goes_through_the_model(emergebench_home: Path) -> None:
    result = run(emergebench_home, "boxinggym/moral_machines", budgets="1", seeds=1, eig=False, num_evals=2)
    from emergebench.journal import iter_journal

    rows = list(
        iter_journal(
            next(p for p in (emergebench_home / "runs").iterdir() if not p.name.startswith(".")) / "journal.jsonl"
        )
    )
    assert "environment" in {c.role for c in rows[0].calls}
    obs = rows[0].output["experiments"][0]["observation"]
    assert obs.startswith("The participant chose to save group")
    assert result.n_errors == 0
