"""emergebench: an open ecosystem for evaluating emergent abilities of AI models."""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

# Names are imported on first use (PEP 562), so that `emergebench --help` and the plugin listings do not
# pay for pydantic models and the runner; `from emergebench import Task` works as before.
_EXPORTS = {
    "BaseContext": "context",
    "ModelHandle": "context",
    "ScoreContext": "context",
    "SolveContext": "context",
    "UsageError": "errors",
    "Grade": "grader",
    "Grader": "grader",
    "hookimpl": "hookspecs",
    "MetricPair": "metric_pairs",
    "Model": "model",
    "ModelError": "model",
    "ModelProvider": "model",
    "TransientModelError": "model",
    **{
        name: "records"
        for name in (
            "GenerateConfig",
            "Message",
            "Metric",
            "ModelCall",
            "ModelInfo",
            "ModelOutput",
            "RunResult",
            "RunSpec",
            "Sample",
            "SampleOutput",
            "SampleResult",
            "SampleScore",
            "TokenLogprob",
            "Usage",
        )
    },
    "NoArgs": "task",
    "Task": "task",
}

if TYPE_CHECKING:
    from .context import BaseContext, ModelHandle, ScoreContext, SolveContext
    from .errors import UsageError
    from .grader import Grade, Grader
    from .hookspecs import hookimpl
    from .metric_pairs import MetricPair
    from .model import Model, ModelError, ModelProvider, TransientModelError
    from .records import (
        GenerateConfig,
        Message,
        Metric,
        ModelCall,
        ModelInfo,
        ModelOutput,
        RunResult,
        RunSpec,
        Sample,
        SampleOutput,
        SampleResult,
        SampleScore,
        TokenLogprob,
        Usage,
    )
    from .task import NoArgs, Task

    __version__: str


def __getattr__(name: str) -> Any:
    if name == "__version__":
        from importlib.metadata import PackageNotFoundError, version

        try:
            value = version("emergebench-core")
        except PackageNotFoundError:  # running from a source tree
            value = "0.0.0"
    elif name in _EXPORTS:
        value = getattr(import_module(f".{_EXPORTS[name]}", __name__), name)
    else:
        raise AttributeError(f"module 'emergebench' has no attribute {name!r}")
    globals()[name] = value
    return value


__all__ = [
    "BaseContext",
    "Grade",
    "Grader",
    "GenerateConfig",
    "Message",
    "Metric",
    "MetricPair",
    "Model",
    "ModelCall",
    "ModelError",
    "ModelHandle",
    "ModelInfo",
    "ModelOutput",
    "ModelProvider",
    "NoArgs",
    "RunResult",
    "RunSpec",
    "Sample",
    "SampleOutput",
    "SampleResult",
    "SampleScore",
    "ScoreContext",
    "SolveContext",
    "Task",
    "TokenLogprob",
    "TransientModelError",
    "Usage",
    "UsageError",
    "hookimpl",
    "__version__",
]
