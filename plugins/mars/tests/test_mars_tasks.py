"""Whole runs through the core runner with scripted and baseline models on the sample set."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest
from emergebench import GenerateConfig, Message, Model, ModelInfo, ModelOutput, TokenLogprob, UsageError
from emergebench.runner import RunOptions, build_spec, run_sync

CALLS: list[tuple[list[Message], GenerateConfig]] = []


def _run(home: Path, task: str, model: str, model_args: dict[str, Any] | None = None, **kw: Any):  # type: ignore[no-untyped-def]
    limit = kw.pop("limit", None)
    seed = kw.pop("seed", 0)
    spec = build_spec(
        task, model, model_args=model_args or {}, task_args={"data": "sample", **kw}, limit=limit, seed=seed
    )
    return run_sync(spec, RunOptions(progress=False, runs_dir=home / "runs", cache_path=home / "cache.sqlite"))


def _journal(home: Path, run_id: str) -> list[dict[str, Any]]:
    lines = (home / "runs" / run_id / "journal.jsonl").read_text().splitlines()
    return [json.loads(line) for line in lines]


def _metrics(result) -> dict[tuple[str, str | None], float | None]:  # type: ignore[no-untyped-def]
    return {(m.name, m.group): m.value for m in result.metrics}


def recording_reply(messages: list[Message], config: GenerateConfig) -> str:
    """A scripted reply that remembers what it was sent (for prompt and config assertions)."""
    CALLS.append((messages, config))
    return "**Yes.**"


def test_three_tasks_run_with_majority_baseline(emergebench_home: Path) -> None:
    for task in ("mars/event", "mars/inference", "mars/transition"):
        result = _run(emergebench_home, task, "mars/majority")
        metrics = _metrics(result)
        assert result.status == "complete" and result.n_errors == 0 and result.n_samples == 12
        assert metrics[("accuracy", None)] == 0.5 and metrics[("yes_rate", None)] == 1.0
        assert metrics[("roc_auc", None)] == 0.5  # a constant score ties everywhere
        assert result.task.version == "1.1"


def test_random_baseline_is_seeded(emergebench_home: Path) -> None:
    first = _run(emergebench_home, "mars/transition", "mars/random", seed=1)
    again = _run(emergebench_home / "again", "mars/transition", "mars/random", seed=1)
    other = _run(emergebench_home / "other", "mars/transition", "mars/random", seed=2)
    answers = [r["metadata"]["predicted_label"] for r in _journal(emergebench_home, first.run_id)]
    assert answers == [r["metadata"]["predicted_label"] for r in _journal(emergebench_home / "again", again.run_id)]
    assert answers != [r["metadata"]["predicted_label"] for r in _journal(emergebench_home / "other", other.run_id)]
    assert set(answers) == {"yes", "no"}


def test_robust_extraction_reads_markdown_that_the_reference_cannot(emergebench_home: Path) -> None:
    CALLS.clear()
    fn = {"function": f"{__name__}:recording_reply"}
    robust = _run(emergebench_home, "mars/transition", "scripted/function", fn)
    assert _metrics(robust)[("extraction_failure_rate", None)] == 0.0
    assert _metrics(robust)[("accuracy", None)] == 0.5
    reference = _run(emergebench_home, "mars/transition", "scripted/function", fn, extraction="reference")
    assert _metrics(reference)[("extraction_failure_rate", None)] == 1.0
    assert _metrics(reference)[("accuracy", None)] == 0.0  # unparsed counts as wrong by default
    guessed = _run(
        emergebench_home, "mars/transition", "scripted/function", fn, extraction="reference", on_unparsed="random"
    )
    rows = _journal(emergebench_home, guessed.run_id)
    labels = [r["metadata"]["predicted_label"] for r in rows]
    assert all(r["metadata"]["guessed"] for r in rows) and set(labels) == {"yes", "no"}
    again = _run(
        emergebench_home / "b", "mars/transition", "scripted/function", fn, extraction="reference", on_unparsed="random"
    )
    assert labels == [r["metadata"]["predicted_label"] for r in _journal(emergebench_home / "b", again.run_id)]


def test_prompts_and_decoding_follow_the_reference(emergebench_home: Path) -> None:
    CALLS.clear()
    fn = {"function": f"{__name__}:recording_reply"}
    _run(emergebench_home, "mars/transition", "scripted/function", fn, limit=1)
    messages, config = CALLS[-1]
    text = messages[0].content
    assert text.startswith("Given an assertion with a if-then relationship, determine if it's plausible or not.")
    assert "\nAssertion: If " in text and ", then " in text and text.endswith("\nAnswer yes or no only.")
    assert config.max_tokens == 5 and config.temperature == 0.0 and config.response_format is None
    _run(emergebench_home, "mars/inference", "scripted/function", fn, limit=1, prompt="open")
    text = CALLS[-1][0][0].content
    assert text.endswith(". Answer Yes or No only. Your answer is") and ", then" not in text and " then " in text
    assert CALLS[-1][1].max_tokens == 3
    _run(emergebench_home, "mars/event", "scripted/function", fn, limit=1, verbatim=True)
    text = CALLS[-1][0][0].content
    assert text.startswith("\n        Given an event") and "\n        Event: " in text


def test_few_shot_demonstrations_come_from_train_with_a_seed(emergebench_home: Path) -> None:
    CALLS.clear()
    fn = {"function": f"{__name__}:recording_reply"}
    _run(emergebench_home, "mars/transition", "scripted/function", fn, shots=3, limit=2)
    prompts = [c[0][0].content for c in CALLS]
    train = (Path(__file__).parents[1] / "src/emergebench_mars/sample_data/transition/train.csv").read_text()
    for prompt in prompts:
        shots = [line for line in prompt.splitlines() if line.endswith(("Answer: yes", "Answer: no"))]
        assert len(shots) == 3 and "Here are some examples:" in prompt
        for line in shots:
            antecedent = line.removeprefix("Assertion: If ").split(", then ")[0]
            assert antecedent in train
    assert CALLS[-1][1].max_tokens == 10
    CALLS.clear()
    _run(emergebench_home / "again", "mars/transition", "scripted/function", fn, shots=3, limit=2)
    assert [c[0][0].content for c in CALLS] == prompts
    CALLS.clear()
    _run(emergebench_home, "mars/transition", "scripted/function", fn, shots=1, shot_labels="integer", limit=1)
    assert any(line.endswith(("Answer: 0", "Answer: 1")) for line in CALLS[-1][0][0].content.splitlines())
    with pytest.raises(UsageError, match="shots"):
        build_spec("mars/transition", "mars/majority", task_args={"shots": 99})


def test_limit_draws_a_label_stratified_subset(emergebench_home: Path) -> None:
    result = _run(emergebench_home, "mars/event", "mars/majority", limit=4, seed=7)
    rows = _journal(emergebench_home, result.run_id)
    assert sorted(r["target"] for r in rows) == [0, 0, 1, 1]
    again = _run(emergebench_home / "b", "mars/event", "mars/majority", limit=4, seed=7)
    assert [r["sample_id"] for r in rows] == [r["sample_id"] for r in _journal(emergebench_home / "b", again.run_id)]


def test_openllm_subset_on_the_sample_set(emergebench_home: Path) -> None:
    result = _run(emergebench_home, "mars/transition", "mars/majority", subset="openllm-2000")
    ids = [r["sample_id"] for r in _journal(emergebench_home, result.run_id)]
    assert len(ids) == 16 and sum(i.startswith("dev-") for i in ids) == 4  # test has < 2,000 rows: dev joins
    with pytest.raises(UsageError, match="defined on the test split"):
        _run(emergebench_home, "mars/transition", "mars/majority", subset="openllm-2000", split="dev")


class StructuredModel(Model):
    """Claims JSON-schema and logprob support, answers in JSON with a top-k distribution."""

    supports_logprobs = True
    supports_json_schema = True

    def __init__(self) -> None:
        super().__init__("mars-test/structured", ModelInfo(id="mars-test/structured", provider="mars-test", name="s"))
        self.configs: list[GenerateConfig] = []

    async def generate(self, messages: list[Message], config: GenerateConfig) -> ModelOutput:
        self.configs.append(config)
        p = 0.8 if "kite" in messages[-1].content or "rainwater" in messages[-1].content else 0.3
        word = "yes" if p > 0.5 else "no"
        top = {"yes": math.log(p), "no": math.log(1 - p)}
        return ModelOutput(
            text=json.dumps({"answer": word}),
            logprobs=[
                TokenLogprob(token='{"answer": "', logprob=0.0, top={'{"answer": "': 0.0}),
                TokenLogprob(token=word, logprob=top[word], top=top),
            ],
        )


def test_constrained_output_and_logprobs_when_supported(emergebench_home: Path) -> None:
    from emergebench import ModelProvider, hookimpl
    from emergebench.plugins import get_manager

    model = StructuredModel()

    class Plugin:
        @staticmethod
        @hookimpl
        def register_models(register: Any) -> None:
            register(ModelProvider(prefix="mars-test", factory=lambda name, options: model, known=["structured"]))

    get_manager().register_module(Plugin, name="mars-test-plugin")
    result = _run(emergebench_home, "mars/transition", "mars-test/structured")
    config = model.configs[0]
    assert config.response_format is not None and config.response_format["type"] == "json_schema"
    assert config.logprobs is True and config.top_logprobs == 5 and config.max_tokens == 24
    metrics = _metrics(result)
    # yes (p=.8) on the 2 kite/rainwater rows, both plausible; no (p=.3) elsewhere: 2 hits + 6 hits of 12
    assert metrics[("accuracy", None)] == pytest.approx(8 / 12)
    # AUC: 2 positives at .8 beat all 6 negatives (12 pairs); the other 4 positives tie them (.5 x 24)
    assert metrics[("roc_auc", None)] == pytest.approx((12 + 12) / 36)
    rows = _journal(emergebench_home, result.run_id)
    assert {r["metadata"]["extraction"] for r in rows} == {"json"} and all(r["output"]["constrained"] for r in rows)
    model.configs.clear()
    _run(emergebench_home / "off", "mars/transition", "mars-test/structured", constrained="off", logprobs="off")
    assert model.configs[0].response_format is None and model.configs[0].logprobs is None


def test_bad_args_are_refused_with_the_accepted_keys() -> None:
    with pytest.raises(UsageError, match="data_dirr"):
        build_spec("mars/event", "mars/majority", task_args={"data_dirr": "x"})
    with pytest.raises(UsageError, match="prompt"):
        build_spec("mars/event", "mars/majority", task_args={"prompt": "gpt5"})
    spec = build_spec("mars/event", "mars/majority", task_args={"revision": 1234})
    assert spec.task_args["revision"] == "1234"


def test_baseline_options_are_validated(emergebench_home: Path) -> None:
    forced = _run(emergebench_home, "mars/transition", "mars/majority", {"label": "no"})
    assert _metrics(forced)[("yes_rate", None)] == 0.0
    with pytest.raises(UsageError, match="label='maybe'"):
        _run(emergebench_home, "mars/transition", "mars/majority", {"label": "maybe"})
    with pytest.raises(UsageError, match="between 0 and 1"):
        _run(emergebench_home, "mars/transition", "mars/random", {"p_yes": 2})
