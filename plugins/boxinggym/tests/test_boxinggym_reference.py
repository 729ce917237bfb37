"""``-T reference_repo=PATH``: prompts read at run time from a local clone, its files and sha256 recorded.

The fixture under tests/fixtures/reference_clone has the reference's file layout, class and method names
and control flow, with wording of its own (every text starts with FIXTURE). Set
EMERGEBENCH_BOXINGGYM_REFERENCE to a real clone of kanishkg/boxing-gym to also render every world from it.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

import numpy as np
import pytest
from emergebench import GenerateConfig, Message, UsageError
from emergebench.runner import RunOptions, build_spec, run_sync
from emergebench_boxinggym.envs import ENVIRONMENTS
from emergebench_boxinggym.reference_texts import WORLDS, ReferenceTexts
from emergebench_boxinggym.refsource import ReferenceSourceError

FIXTURE = Path(__file__).parent / "fixtures" / "reference_clone"
FILES = ["run_experiment.py", "src/boxing_gym/agents/agent.py", "src/boxing_gym/envs/peregrines.py"]


def texts(prior: bool = True, root: Path = FIXTURE) -> tuple[ReferenceTexts, object, object]:
    env = ENVIRONMENTS["peregrines"](np.random.default_rng(0), include_prior=prior)
    goal = env.goals["direct"](env)
    return ReferenceTexts(root, env, goal), env, goal


def test_every_text_comes_from_the_clone(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    ref, env, goal = texts()
    header = "FIXTURE header shared by both conditions."
    assert ref.scientist_system(env, goal, True) == (  # type: ignore[arg-type]
        f"{header}\nFIXTURE falcons, times from 0 to 5.\nFIXTURE goal: forecast the falcon tally."
    )
    assert ref.discovery_system(env, goal, True).endswith(  # type: ignore[arg-type]
        "\nFIXTURE explainer role. FIXTURE user goal: falcon tally."
    )
    point = goal.eval_points(np.random.default_rng(1), 1)[0]  # type: ignore[attr-defined]
    assert ref.question_prompt(env, goal, point, 0, None, novice=False) == (  # type: ignore[arg-type]
        f"FIXTURE no data yet: guess.\nFIXTURE question: falcon tally at moment {point.query}?\nFIXTURE answer suffix."
    )
    assert ref.question_prompt(env, goal, point, 3, "17", novice=True).startswith(  # type: ignore[arg-type]
        "FIXTURE last result 17.\n"
    )
    assert ref.experiment_prompt(None) == "FIXTURE first request: observe something."
    assert ref.experiment_prompt("4") == "FIXTURE result 4; observe again."
    assert ref.observe_reminder == "FIXTURE reminder: use observe tags."
    assert ref.answer_reminder == "FIXTURE reminder: use answer tags."
    assert ref.comm_prompt(env, goal, True, 120) == "FIXTURE explain in at most 120 words."  # type: ignore[arg-type]
    assert ref.novice_system(env, goal, True, "EXPL", "paper") == (  # type: ignore[arg-type]
        "FIXTURE novice goal: falcon tally.\nFIXTURE novice format: one integer in answer tags.FIXTURE what you know:\n"
        "EXPL"
    )
    assert not (tmp_path / "SIDE_EFFECT_MARKER").exists()  # the clone's code was parsed, never run


def test_the_prior_false_branch_is_the_one_read() -> None:
    ref, env, goal = texts(prior=False)
    system = ref.scientist_system(env, goal, False)  # type: ignore[arg-type]
    assert "whole-number reply" in system and "falcon" not in system
    point = goal.eval_points(np.random.default_rng(1), 1)[0]  # type: ignore[attr-defined]
    assert "reply for input" in ref.question_prompt(env, goal, point, 0, None, novice=False)  # type: ignore[arg-type]


def test_provenance_lists_the_files_read_and_their_sha256() -> None:
    ref, _, _ = texts()
    expected = {f: hashlib.sha256((FIXTURE / f).read_bytes()).hexdigest() for f in FILES}
    assert ref.provenance() == expected


def test_a_run_sends_the_clone_texts_and_records_them(emergebench_home: Path) -> None:
    seen: list[list[Message]] = []

    def scientist(messages: list[Message], config: GenerateConfig) -> str:
        seen.append(list(messages))
        last = messages[-1].content
        return "<answer>100</answer>" if "answer suffix" in last else "<observe>1.5</observe>"

    import emergebench_boxinggym.scripted as mod

    mod._reference_scientist = scientist  # type: ignore[attr-defined]
    spec = build_spec(
        "boxinggym/peregrines",
        "scripted/function",
        model_args={"function": "emergebench_boxinggym.scripted:_reference_scientist"},
        task_args={"budgets": "0,1", "seeds": 1, "eig": False, "num_evals": 2, "reference_repo": str(FIXTURE)},
    )
    result = run_sync(spec, RunOptions(runs_dir=emergebench_home / "runs", cache_path=emergebench_home / "c.db"))
    assert result.n_errors == 0
    user_texts = {m.content for call in seen for m in call if m.role in ("system", "user")}
    assert user_texts and all(t.startswith(("FIXTURE", "FIXTURE header")) for t in user_texts)
    for f in FILES:
        digest = hashlib.sha256((FIXTURE / f).read_bytes()).hexdigest()
        assert result.provenance.plugin_versions[f"task:reference:{f}"] == digest


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ("missing_dir", "is not a directory"),
        ("missing_file", "has no src/boxing_gym/agents/agent.py"),
        ("missing_class", "has no class Peregrines"),
        ("not_python", "not readable Python"),
    ],
)
def test_a_clone_that_does_not_fit_is_refused_clearly(tmp_path: Path, change: str, message: str) -> None:
    root = tmp_path / "clone"
    shutil.copytree(FIXTURE, root)
    env_file = root / "src/boxing_gym/envs/peregrines.py"
    if change == "missing_dir":
        root = tmp_path / "nowhere"
    elif change == "missing_file":
        (root / "src/boxing_gym/agents/agent.py").unlink()
    elif change == "missing_class":
        env_file.write_text(env_file.read_text().replace("class Peregrines:", "class Falcons:"))
    else:
        env_file.write_text("def broken(:\n")
    with pytest.raises(UsageError, match=message):
        build_spec("boxinggym/peregrines", "scripted/constant", task_args={"reference_repo": str(root), "seeds": 1})


def test_a_text_the_subset_cannot_compute_is_an_error_not_a_guess(tmp_path: Path) -> None:
    root = tmp_path / "clone"
    shutil.copytree(FIXTURE, root)
    env_file = root / "src/boxing_gym/envs/peregrines.py"
    env_file.write_text(env_file.read_text().replace("{self.upper_limit}", "{compute_limit()}"))
    with pytest.raises(ReferenceSourceError, match="Peregrines|DirectGoal"):
        ref, env, goal = texts(root=root)
        ref.scientist_system(env, goal, True)  # type: ignore[arg-type]


@pytest.mark.skipif("EMERGEBENCH_BOXINGGYM_REFERENCE" not in os.environ, reason="no local clone of the reference")
@pytest.mark.parametrize("key", sorted(WORLDS))
def test_every_world_renders_from_a_real_clone(key: str) -> None:
    root = Path(os.environ["EMERGEBENCH_BOXINGGYM_REFERENCE"])
    cls = ENVIRONMENTS[key]
    for prior in (True, False) if not cls.prior_only else (True,):
        env = cls(np.random.default_rng(0), phrase=False, include_prior=prior)
        goal = env.goals["direct"](env)
        ref = ReferenceTexts(root, env, goal)
        point = goal.eval_points(np.random.default_rng(1), 1)[0]
        for text in (
            ref.scientist_system(env, goal, prior),
            ref.discovery_system(env, goal, prior),
            ref.question_prompt(env, goal, point, 1, "3", novice=False),
            ref.comm_prompt(env, goal, prior, 200),
            ref.novice_system(env, goal, prior, "", "paper"),
        ):
            assert len(text) > 20
