"""The Grader base class: turns an answer into a score, programmatically or with a judge model."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field

if TYPE_CHECKING:
    from .context import BaseContext


class NoGraderArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Grade(BaseModel):
    """One grading verdict. ``parse_failed`` marks output the grader could not read (scored 0)."""

    value: float
    extracted: str | None = None
    explanation: str | None = None
    parse_failed: bool = False
    details: dict[str, Any] = Field(default_factory=dict)


GraderArgsT = TypeVar("GraderArgsT", bound=BaseModel)


class Grader(Generic[GraderArgsT]):
    """Subclass, set ``name``, implement ``grade``. Model-graded graders set ``needs_model`` and
    call ``ctx.grader_model`` (chosen by the user with ``--grader-model``), which goes through the
    same cache, retries and call records as the subject model. Graders run in the scoring phase, so
    ``ctx`` has no subject model: a grader reads the answer it is given."""

    name: ClassVar[str]
    description: ClassVar[str] = ""
    Args: ClassVar[type[BaseModel]] = NoGraderArgs
    needs_model: ClassVar[bool] = False
    plugin: ClassVar[str | None] = None

    args: GraderArgsT

    def __init__(self, args: GraderArgsT | None = None) -> None:
        self.args = args if args is not None else self.Args()  # type: ignore[assignment]

    async def grade(self, answer: str, target: Any, ctx: BaseContext) -> Grade:
        raise NotImplementedError
