"""The three MARS tasks: one yes/no plausibility call per item, scored against the human label."""

from __future__ import annotations

import random
from array import array
from collections import Counter
from typing import Any, ClassVar, Literal

from emergebench import (
    GenerateConfig,
    Metric,
    MetricPair,
    Sample,
    SampleOutput,
    SampleResult,
    SampleScore,
    Task,
    UsageError,
)
from emergebench.context import ScoreContext, SolveContext
from emergebench.metrics import MetricAccumulator
from emergebench.structured import json_schema_format
from pydantic import BaseModel, ConfigDict, Field, field_validator

from .baselines import MAJORITY_KEY
from .extract import extract
from .loader import MarsRow
from .prompts import Item, echo_texts, render
from .sampling import REFERENCE_SUBSET_SIZE, reference_subset, stratified_subset
from .schema import EVENT, INFERENCE, LABEL_WORDS, TRANSITION, TaskSchema
from .scores import p_yes
from .sources import DEFAULT_REPO, DataRequest, LoadedSplit, load
from .stats import (
    NO_PREDICTION,
    bootstrap_auc,
    bootstrap_macro_f1,
    bootstrapped_metric,
    macro_f1,
    proportion_metric,
    roc_auc,
)

ANSWER_SCHEMA = json_schema_format("mars_answer", {"answer": {"type": "string", "enum": ["yes", "no"]}})
CONSTRAINED_MIN_TOKENS = 24  # room for {"answer": "yes"} with the whitespace small models emit


class MarsArgs(BaseModel):
    """``-T`` options shared by the three MARS tasks (see the plugin README for each)."""

    model_config = ConfigDict(extra="forbid")

    data: Literal["hub", "sample"] = Field("hub", description="hub: the MARS release; sample: bundled non-MARS set")
    data_dir: str | None = Field(None, description="a local copy of the MARS files instead of the Hub")
    repo_id: str = DEFAULT_REPO
    revision: str = Field("main", description="Hub branch, tag or commit to pin")
    endpoint: str | None = Field(None, description="Hub endpoint (default: HF_ENDPOINT or huggingface.co)")
    path_template: str | None = Field(None, description="file path with {split} (and {task}) if auto-detection fails")
    variant: Literal["standard", "equal_boundary"] = "standard"
    columns: dict[str, str] = Field(default_factory=dict, description="role -> column, e.g. {'event': 'my_col'}")
    split: Literal["test", "dev", "train"] = "test"
    subset: Literal["full", "openllm-2000"] = Field("full", description="openllm-2000: the reference's 829 subset")
    prompt: Literal["chat", "open"] = Field("chat", description="reference GPT (chat) or open-LLM prompt wording")
    verbatim: bool = Field(False, description="send the reference prompts' indentation as-is")
    shots: int = Field(0, ge=0, le=32, description="few-shot demonstrations drawn (seeded) from train")
    shot_labels: Literal["yes-no", "integer"] = Field("yes-no", description="integer: show 0/1 like the reference")
    extraction: Literal["robust", "reference"] = "robust"
    on_unparsed: Literal["wrong", "random"] = Field("wrong", description="random: the reference's coin flip")
    constrained: Literal["auto", "on", "off"] = Field("auto", description="JSON-schema output when supported")
    logprobs: Literal["auto", "on", "off"] = Field("auto", description="request logprobs for ROC-AUC")
    top_logprobs: int = Field(5, ge=1, le=20)
    temperature: float = Field(0.0, ge=0.0, le=2.0)
    max_tokens: int | None = Field(None, ge=1, description="default: the reference's 5 (chat), 10 (few-shot), 3 (open)")

    @field_validator("revision", "repo_id", "data_dir", "endpoint", "path_template", mode="before")
    @classmethod
    def _stringify(cls, value: Any) -> Any:
        # `-T revision=1234` arrives as a JSON number; a revision is always a string
        return str(value) if isinstance(value, int | float) and not isinstance(value, bool) else value


class MarsTask(Task[MarsArgs]):
    """Shared machinery; subclasses pick the schema."""

    schema: ClassVar[TaskSchema]
    version = "1.1"
    Args = MarsArgs
    main_metric = "accuracy"
    format_failure_metric = "extraction_failure_rate"
    # the Brier score is a squared error; unreadable replies are failures
    lower_is_better = frozenset({"brier", "extraction_failure_rate"})
    metric_pairs = (MetricPair(headline="correct", continuous="p_correct"),)
    demo_args: ClassVar[dict[str, Any] | None] = None  # only Transition demos: its prompts are the reference's
    demo_limit: ClassVar[int | None] = 4

    def __init__(self, args: MarsArgs | None = None) -> None:
        super().__init__(args)
        self._loaded: dict[str, LoadedSplit] = {}
        self._train: list[MarsRow] = []

    # data -----------------------------------------------------------------------------------
    def _request(self) -> DataRequest:
        a = self.args
        return DataRequest(
            data=a.data,
            data_dir=a.data_dir,
            repo_id=a.repo_id,
            revision=a.revision,
            endpoint=a.endpoint,
            path_template=a.path_template,
            variant=a.variant,
            columns=dict(a.columns),
        )

    def _split(self, split: str) -> LoadedSplit:
        if split not in self._loaded:
            self._loaded[split] = load(self._request(), self.schema, split)
        return self._loaded[split]

    def rows(self) -> list[MarsRow]:
        """The evaluated rows, after ``-T subset`` and before ``--limit``."""
        a = self.args
        rows = self._split(a.split).data.rows
        if a.subset == "openllm-2000":
            if a.split != "test":
                raise UsageError(f"-T subset=openllm-2000 is defined on the test split; drop -T split={a.split}")
            dev = self._split("dev").data.rows if len(rows) < REFERENCE_SUBSET_SIZE else None
            rows = reference_subset(rows, dev)
        return rows

    def dataset(self, seed: int) -> list[Sample]:
        rows = self.rows()
        counts = Counter(r.label for r in rows)
        majority = 1 if counts[1] >= counts[0] else 0  # a tie goes to "plausible"
        if self.args.shots:
            train = self._split("train").data.rows
            if len(train) <= self.args.shots:
                raise UsageError(f"-T shots={self.args.shots} needs more than {len(train)} train rows; lower -T shots")
            self._train = train
        return [
            Sample(
                id=row.id,
                input=dict(row.fields),
                target=row.label,
                metadata={"groups": dict(row.groups), MAJORITY_KEY: majority},
            )
            for row in rows
        ]

    def select(self, samples: list[Sample], limit: int | None, seed: int) -> list[Sample]:
        return stratified_subset(samples, [int(s.target) for s in samples], limit, seed)

    def provenance(self) -> dict[str, Any]:
        facts: dict[str, Any] = {}
        for split, loaded in sorted(self._loaded.items()):
            for key, value in loaded.origin.items():
                facts[f"mars.{split}.{key}"] = value
            facts[f"mars.{split}.sha256"] = ",".join(sha for _, sha in sorted(loaded.data.files.items()))
            facts[f"mars.{split}.columns"] = loaded.data.columns
            if loaded.data.skipped_blank:
                facts[f"mars.{split}.skipped_blank_rows"] = loaded.data.skipped_blank
            if loaded.data.built_from:
                facts[f"mars.{split}.event_built_from"] = loaded.data.built_from
                facts[f"mars.{split}.skipped_unbuildable_rows"] = loaded.data.skipped_unbuildable
        return facts

    # solving --------------------------------------------------------------------------------
    def _item(self, fields: dict[str, str]) -> Item:
        return Item(event=fields["event"], inference=fields.get("inference") if self.schema is not EVENT else None)

    def _shots(self, sample: Sample, ctx: SolveContext) -> list[tuple[Item, int]]:
        if not self.args.shots:
            return []
        pool = [r for r in self._train if r.id != sample.id] if self.args.split == "train" else self._train
        rng = random.Random(f"mars-shots:{ctx.seed}")
        return [(self._item(r.fields), r.label) for r in rng.sample(pool, self.args.shots)]

    def _config(self, ctx: SolveContext) -> tuple[GenerateConfig, bool, bool]:
        a = self.args
        if a.max_tokens is not None:
            max_tokens = a.max_tokens
        elif a.prompt == "open":
            max_tokens = 3
        else:
            max_tokens = 10 if a.shots else 5
        constrained = a.constrained == "on" or (a.constrained == "auto" and ctx.model.supports_json_schema)
        want_logprobs = a.logprobs == "on" or (a.logprobs == "auto" and ctx.model.supports_logprobs)
        config = GenerateConfig(
            temperature=a.temperature,
            max_tokens=max(max_tokens, CONSTRAINED_MIN_TOKENS) if constrained else max_tokens,
            seed=ctx.seed if a.temperature > 0 else None,
            logprobs=True if want_logprobs else None,
            top_logprobs=a.top_logprobs if want_logprobs else None,
            response_format=ANSWER_SCHEMA if constrained else None,
        )
        return config, constrained, want_logprobs

    async def solve(self, sample: Sample, ctx: SolveContext) -> SampleOutput:
        """One call; the raw reply (and P(yes) when logprobs came back) is the stored output."""
        a = self.args
        item = self._item(sample.input)
        prompt = render(
            item,
            style=a.prompt,
            shots=self._shots(sample, ctx),
            shot_labels=a.shot_labels,
            verbatim=a.verbatim,
        )
        config, constrained, want_logprobs = self._config(ctx)
        output = await ctx.model.generate(prompt, config)
        return SampleOutput(
            answer=output.text,
            data={
                "p_yes": p_yes(output.logprobs) if output.logprobs else None,
                "constrained": constrained,
                "logprobs_requested": want_logprobs,
                "groups": sample.metadata.get("groups", {}),
            },
        )

    async def score(self, sample: Sample, output: SampleOutput, ctx: ScoreContext) -> SampleScore:
        """The label read from the stored reply (``-T extraction``), compared with the human label."""
        a = self.args
        extraction = extract(output.answer or "", a.extraction, echoes=echo_texts(self._item(sample.input)))
        prediction = extraction.label
        guessed = False
        if prediction is None and a.on_unparsed == "random":
            prediction = ctx.rng.choice([0, 1])
            guessed = True
        label = int(sample.target)
        scores = {"correct": float(prediction == label), "extraction_failed": float(extraction.failed)}
        score = output.data.get("p_yes")
        if score is not None:  # the continuous counterparts of "correct" (docs/analysis.md)
            scores["p_correct"] = score if label == 1 else 1.0 - score
            scores["brier"] = (score - label) ** 2
        return SampleScore(
            scores=scores,
            metadata={
                "prediction": prediction,
                "predicted_label": LABEL_WORDS[prediction] if prediction is not None else None,
                "extraction": extraction.method,
                "guessed": guessed,
            },
        )

    def grading_target(self, sample: Sample) -> str:
        """A user's --grader compares the reply with the label word, "yes" or "no"."""
        return LABEL_WORDS[int(sample.target)]

    # metrics --------------------------------------------------------------------------------
    def metric_accumulator(self) -> MarsMetrics:
        return MarsMetrics()


class MarsMetrics(MetricAccumulator):
    """Accuracy, macro-F1, extraction-failure rate, yes-rate, ROC-AUC, and per-label/per-type accuracy.

    Folded as results arrive: per scored sample it keeps its label, prediction and P(yes) (a few bytes;
    the bootstraps resample them), and per breakdown group a hit count.
    """

    def __init__(self) -> None:
        self.labels = array("b")
        self.preds = array("b")  # NO_PREDICTION for a reply the task could not read
        self.failed = 0
        self.scored_labels = array("b")  # the samples with a P(yes), for ROC-AUC
        self.scored = array("d")
        self.groups: dict[str, list[int]] = {}  # group -> [hits, n]

    def add(self, result: SampleResult) -> None:
        if result.error is not None or "prediction" not in result.metadata:
            return
        label, pred = int(result.target), result.metadata["prediction"]
        self.labels.append(label)
        self.preds.append(NO_PREDICTION if pred is None else int(pred))
        if result.scores.get("extraction_failed"):
            self.failed += 1
        output = _output(result)
        if (p := output.get("p_yes")) is not None:
            self.scored_labels.append(label)
            self.scored.append(float(p))
        for column, value in (output.get("groups") or {}).items():
            tally = self.groups.setdefault(f"{column}={value}", [0, 0])
            tally[0] += pred == label
            tally[1] += 1

    def merge(self, other: MarsMetrics) -> None:
        self.labels.extend(other.labels)
        self.preds.extend(other.preds)
        self.failed += other.failed
        self.scored_labels.extend(other.scored_labels)
        self.scored.extend(other.scored)
        for group, (hits, n) in other.groups.items():
            tally = self.groups.setdefault(group, [0, 0])
            tally[0] += hits
            tally[1] += n

    def metrics(self) -> list[Metric]:
        labels = list(self.labels)
        preds: list[int | None] = [None if p == NO_PREDICTION else p for p in self.preds]
        n = len(labels)
        correct = sum(1 for y, p in zip(labels, preds, strict=True) if p == y)
        answered = [p for p in preds if p is not None]
        f1 = macro_f1(labels, preds)
        out = [
            proportion_metric("accuracy", correct, n),
            bootstrapped_metric("macro_f1", f1, bootstrap_macro_f1(labels, preds) if f1 is not None else None, n),
            proportion_metric("extraction_failure_rate", self.failed, n),
            proportion_metric("yes_rate", sum(answered), len(answered)),
        ]
        if self.scored:
            ys, ss = list(self.scored_labels), list(self.scored)
            auc = roc_auc(ys, ss)
            out.append(bootstrapped_metric("roc_auc", auc, bootstrap_auc(ys, ss) if auc is not None else None, len(ys)))
        for label in (1, 0):
            hits = [p == label for y, p in zip(labels, preds, strict=True) if y == label]
            out.append(proportion_metric("accuracy", sum(hits), len(hits), group=f"label={LABEL_WORDS[label]}"))
        for group, (hits_, total) in sorted(self.groups.items()):
            out.append(proportion_metric("accuracy", hits_, total, group=group))
        return out


def mars_metrics(results: list[SampleResult]) -> list[Metric]:
    """The MARS metrics of a list of results (what a run folds as they arrive)."""
    return MarsMetrics().fold(results)


def _output(result: SampleResult) -> dict[str, Any]:
    """The stored output; a schema-1 record kept P(yes) and the groups with its scoring details."""
    return result.output if result.output is not None else result.metadata


class EventTask(MarsTask):
    schema = EVENT
    name = "mars/event"
    description = (
        "MARS Metaphysical Event: is an event with one changed component (subject, verb, object, time, place, "
        "quantity, sub-event) plausible in reality? yes/no vs human labels (Wang & Song, ACL 2025)"
    )


class InferenceTask(MarsTask):
    schema = INFERENCE
    name = "mars/inference"
    description = (
        "MARS Metaphysical Inference: given a changed event, is the stated resulting state or action plausible? "
        "'If <event>, then <inference>' yes/no vs human labels (Wang & Song, ACL 2025)"
    )


class TransitionTask(MarsTask):
    schema = TRANSITION
    name = "mars/transition"
    # the bundled sample set, with the answer constrained to {"answer": "yes"|"no"} where supported
    demo_args: ClassVar[dict[str, Any] | None] = {"data": "sample", "constrained": "auto"}
    description = (
        "MARS Metaphysical Transition: after a further change to the event, does the inference become plausible? "
        "'If <event after transition>, then <inference>' yes/no vs human labels (Wang & Song, ACL 2025)"
    )


TASKS: tuple[type[MarsTask], ...] = (EventTask, InferenceTask, TransitionTask)
