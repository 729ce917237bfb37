"""The Task base class that benchmark plugins subclass and pass to ``register``."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import BaseModel, ConfigDict

from .metric_pairs import MetricPair
from .metrics import mean_metrics
from .records import GenerateConfig, Metric, Sample, SampleResult, SampleScore, TaskInfo

if TYPE_CHECKING:
    from .context import SolveContext


class NoArgs(BaseModel):
    """Args model for tasks that take no ``-T`` options."""

    model_config = ConfigDict(extra="forbid")


class Task:
    """A benchmark: a dataset of samples, a ``solve`` coroutine per sample, and metrics.

    Subclasses set the class variables and implement ``dataset`` and ``solve``. ``solve`` may
    talk to ``ctx.model`` (and ``ctx.grader_model`` or any other model) as often as it needs.
    Bump ``version`` whenever prompts, data or scoring change: results of different versions are
    kept apart in the registry.
    """

    name: ClassVar[str]
    version: ClassVar[str]
    description: ClassVar[str] = ""
    Args: ClassVar[type[BaseModel]] = NoArgs
    main_metric: ClassVar[str | None] = None
    default_grader: ClassVar[str | None] = None
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

    def __init__(self, args: BaseModel | None = None) -> None:
        self.args = args if args is not None else self.Args()

    @classmethod
    def info(cls) -> TaskInfo:
        return TaskInfo(
            name=cls.name,
            version=cls.version,
            description=cls.description,
            plugin=cls.plugin,
            main_metric=cls.main_metric,
            args_schema=cls.Args.model_json_schema(),
        )

    def dataset(self, seed: int) -> Iterable[Sample]:
        raise NotImplementedError

    def select(self, samples: list[Sample], limit: int | None, seed: int) -> list[Sample]:
        """Choose the samples ``--limit`` keeps; the default is the first ``limit``."""
        return samples if limit is None else samples[:limit]

    async def solve(self, sample: Sample, ctx: SolveContext) -> SampleScore:
        raise NotImplementedError

    def metrics(self, results: list[SampleResult]) -> list[Metric]:
        """Aggregate per-sample scores; the default is mean and standard error of each score."""
        return mean_metrics(results)

    def passed(self, scores: dict[str, float]) -> bool | None:
        """Whether a sample passed, for ``--until-pass``: the first metric pair's headline (stored, or
        derived from its threshold), else the main metric's score, is 1. None: no such score."""
        for pair in self.metric_pairs:
            if pair.headline in scores:
                return scores[pair.headline] >= 1.0
            if pair.threshold is not None and pair.continuous in scores:
                return pair.derive(scores[pair.continuous]) >= 1.0
        if self.main_metric is not None and self.main_metric in scores:
            return scores[self.main_metric] >= 1.0
        return None

    def provenance(self) -> dict[str, Any]:
        """Extra facts recorded with every run, e.g. the sha256 of the data files used."""
        return {}
