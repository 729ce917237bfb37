"""The Task base class that benchmark plugins subclass and pass to ``register``."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar

from pydantic import BaseModel, ConfigDict

from .errors import UsageError
from .metric_pairs import MetricPair, is_lower_better
from .metrics import MeanAccumulator, MetricAccumulator, ResultsAccumulator
from .records import GenerateConfig, Metric, Sample, SampleOutput, SampleResult, SampleScore, TaskInfo

if TYPE_CHECKING:
    from .context import ScoreContext, SolveContext
    from .grader import Grader


class NoArgs(BaseModel):
    """Args model for tasks that take no ``-T`` options."""

    model_config = ConfigDict(extra="forbid")


ArgsT = TypeVar("ArgsT", bound=BaseModel)


class Task(Generic[ArgsT]):
    """A benchmark: a dataset of samples, ``solve`` (the model's output for one sample), ``score``
    (scores from that stored output) and ``metrics`` (aggregates over samples).

    The simplest task sets ``name``, ``version`` and ``default_grader``, lists its samples in
    ``dataset`` and returns the model's answer (a string) from ``solve``; the default ``score``
    grades that answer against ``sample.target``. Tasks whose scoring is more than one grade (a
    rubric voted over rounds, errors over a trajectory) override ``score``. ``score`` may call the
    judge (``ctx.grader_model``) but never the subject model, so a stored run can be re-scored
    (``emergebench score``) without running the model again.

    Subclass as ``Task[MyArgs]`` with ``Args = MyArgs`` so ``self.args`` is typed. Bump ``version``
    whenever prompts, data or scoring change: results of different versions are kept apart.
    """

    name: ClassVar[str]
    version: ClassVar[str]
    description: ClassVar[str] = ""
    Args: ClassVar[type[BaseModel]] = NoArgs
    main_metric: ClassVar[str | None] = None
    # Names of metrics/scores where a smaller value is better (errors, regret, Brier score): the
    # leaderboard ranks them ascending and exports say so. Recorded in every run (TaskInfo), so a
    # pulled or imported run keeps its direction without the plugin. A metric pair's
    # ``lower_is_better`` must agree with it (checked when the class is defined; a pair marked
    # lower-is-better adds its continuous score here, so it is declared in one place either way).
    lower_is_better: ClassVar[frozenset[str]] = frozenset()
    default_grader: ClassVar[str | None] = None
    # Whether ``answer`` vs ``grading_target(sample)`` is something any grader can judge. When it is
    # not (the answer is a summary of a trajectory), a user's --grader is refused, never ignored.
    answer_gradable: ClassVar[bool] = True
    # Defaults for the subject model's calls: a call's own config overrides them, -G overrides both.
    generate_config: ClassVar[GenerateConfig] = GenerateConfig()
    demo_args: ClassVar[dict[str, Any] | None] = None
    demo_limit: ClassVar[int | None] = 2
    # the metric that measures replies the task could not read (printed by `emergebench demo`)
    format_failure_metric: ClassVar[str | None] = None
    # The analysis pairs each discontinuous headline score with a continuous one (docs/analysis.md).
    metric_pairs: ClassVar[tuple[MetricPair, ...]] = ()
    # Per-sample metadata keys whose values are never pooled (Skill-Mix's k): one curve per value.
    group_by: ClassVar[tuple[str, ...]] = ()
    plugin: ClassVar[str | None] = None  # set by the plugin manager at registration

    args: ArgsT

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        declared = frozenset(cls.lower_is_better)
        for pair in cls.metric_pairs:
            if pair.lower_is_better:
                declared |= {pair.continuous}
            elif is_lower_better(pair.continuous, declared):
                raise TypeError(
                    f"{cls.__qualname__}: metric pair {pair.headline}/{pair.continuous} says higher is better "
                    f"but lower_is_better names {pair.continuous!r}; set lower_is_better=True on the pair"
                )
        cls.lower_is_better = declared

    def __init__(self, args: ArgsT | None = None) -> None:
        self.args = args if args is not None else self.Args()  # type: ignore[assignment]

    @classmethod
    def info(cls) -> TaskInfo:
        return TaskInfo(
            name=cls.name,
            version=cls.version,
            description=cls.description,
            plugin=cls.plugin,
            main_metric=cls.main_metric,
            lower_is_better=sorted(cls.lower_is_better),
            args_schema=cls.Args.model_json_schema(),
        )

    def dataset(self, seed: int) -> Iterable[Sample]:
        raise NotImplementedError

    def select(self, samples: list[Sample], limit: int | None, seed: int) -> list[Sample]:
        """Choose the samples ``--limit`` keeps; the default is the first ``limit``."""
        return samples if limit is None else samples[:limit]

    async def solve(self, sample: Sample, ctx: SolveContext) -> SampleOutput | str | SampleScore:
        """The model's output for one sample: its answer as a string, or a SampleOutput with the data
        ``score`` needs. (Returning a SampleScore still works but scores in place: no re-scoring.)"""
        raise NotImplementedError

    async def score(self, sample: Sample, output: SampleOutput, ctx: ScoreContext) -> SampleScore:
        """Scores from a stored output. The default grades ``output.answer`` with the run's grader and
        records the value under ``main_metric`` (or ``score``)."""
        if ctx.grader is None:
            raise UsageError(f"task {self.name!r} has no grader: set default_grader or override score()")
        grade = await ctx.grader.grade(output.answer or "", self.grading_target(sample), ctx)
        return SampleScore(
            scores={self.main_metric or "score": grade.value},
            metadata={"grader": ctx.grader.name, "grade": grade.model_dump(exclude_defaults=True)},
        )

    @classmethod
    def scores_in_score(cls) -> bool:
        """Whether the task's own ``score`` uses the run's grader (the default ``score`` does, and so
        does any task with a ``default_grader``); otherwise the core applies a user's grader itself."""
        return cls.default_grader is not None or cls.score is Task.score

    def grading_target(self, sample: Sample) -> Any:
        """What a grader compares the answer with; MARS turns its 0/1 label into "no"/"yes"."""
        return sample.target

    @classmethod
    def check_grader(cls, grader: type[Grader[Any]]) -> None:
        """Refuse, with a clear UsageError, a grader this task's outputs cannot be graded by."""
        if not cls.answer_gradable:
            raise UsageError(
                f"task {cls.name!r} does not produce an answer a grader can judge (its scores are computed "
                f"from the whole output), so --grader {grader.name!r} cannot be applied; drop --grader and -A"
            )

    def metric_accumulator(self) -> MetricAccumulator:
        """What folds the run's results into its metrics as they arrive; the default is mean and
        standard error of each score. Override this (not ``metrics``) so a run's memory stays flat: an
        accumulator keeps a few numbers per sample, never the results (see ``emergebench.metrics``)."""
        if type(self).metrics is not Task.metrics:  # an older task that overrides metrics(results) only
            return ResultsAccumulator(self.metrics)
        return MeanAccumulator()

    def metrics(self, results: list[SampleResult]) -> list[Metric]:
        """The metrics of a list of results: the task's accumulator folded over them."""
        return self.metric_accumulator().fold(results)

    def passed(self, scores: dict[str, float]) -> bool | None:
        """Whether a sample passed, for ``--until-pass``: the first metric pair's headline (stored, or
        derived from its threshold), else the main metric's score, is 1. None: no such score."""
        for pair in self.metric_pairs:
            if pair.headline in scores:
                return scores[pair.headline] >= 1.0
            if pair.continuous in scores and pair.threshold_for(args := self.args.model_dump()) is not None:
                return pair.derive(scores[pair.continuous], args) >= 1.0
        if self.main_metric is not None and self.main_metric in scores:
            return scores[self.main_metric] >= 1.0
        return None

    def provenance(self) -> dict[str, Any]:
        """Extra facts recorded with every run, e.g. the sha256 of the data files used."""
        return {}
