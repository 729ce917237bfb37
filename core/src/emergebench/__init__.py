"""emergebench: an open ecosystem for evaluating emergent abilities of AI models."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("emergebench-core")
except PackageNotFoundError:  # running from a source tree
    __version__ = "0.0.0"

from .context import ModelHandle, SolveContext  # noqa: E402
from .errors import UsageError  # noqa: E402
from .grader import Grade, Grader  # noqa: E402
from .hookspecs import hookimpl  # noqa: E402
from .model import Model, ModelError, ModelProvider, TransientModelError  # noqa: E402
from .records import (  # noqa: E402
    GenerateConfig,
    Message,
    Metric,
    ModelCall,
    ModelInfo,
    ModelOutput,
    RunResult,
    RunSpec,
    Sample,
    SampleResult,
    SampleScore,
    TokenLogprob,
    Usage,
)
from .task import NoArgs, Task  # noqa: E402

__all__ = [
    "Grade",
    "Grader",
    "GenerateConfig",
    "Message",
    "Metric",
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
    "SampleResult",
    "SampleScore",
    "SolveContext",
    "Task",
    "TokenLogprob",
    "TransientModelError",
    "Usage",
    "UsageError",
    "hookimpl",
    "__version__",
]
