"""What a conformance check found: findings, the report, and the error and warning it raises."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal


@dataclass
class Finding:
    """One problem: ``error`` fails the check, ``warning`` is reported and tolerated."""

    where: str
    message: str
    severity: Literal["error", "warning"] = "error"

    def __str__(self) -> str:
        return f"[{self.severity}] {self.where}: {self.message}"


@dataclass
class ConformanceReport:
    """What :func:`~emergebench.conformance.check_plugin` found and exercised."""

    plugin: str
    distribution: str | None = None
    tasks: list[str] = field(default_factory=list)
    providers: list[str] = field(default_factory=list)
    graders: list[str] = field(default_factory=list)
    commands: list[str] = field(default_factory=list)
    runs: int = 0
    findings: list[Finding] = field(default_factory=list)

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "error"]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "warning"]

    @property
    def ok(self) -> bool:
        return not self.errors

    def error(self, where: str, message: str) -> None:
        self.findings.append(Finding(where, message, "error"))

    def warn(self, where: str, message: str) -> None:
        self.findings.append(Finding(where, message, "warning"))

    def format(self) -> str:
        head = (
            f"plugin {self.plugin!r} ({self.distribution or 'no distribution'}): "
            f"{len(self.tasks)} task(s), {len(self.providers)} model provider(s), {len(self.graders)} grader(s), "
            f"{len(self.commands)} command(s), {self.runs} run(s); "
            f"{len(self.errors)} error(s), {len(self.warnings)} warning(s)"
        )
        return "\n".join([head, *(f"  {f}" for f in self.findings)])


class ConformanceError(AssertionError):
    """Raised by ``check_plugin`` when a plugin fails; the message lists every problem."""

    def __init__(self, report: ConformanceReport) -> None:
        super().__init__(report.format())
        self.report = report


class ConformanceWarning(UserWarning):
    """A plugin does something tolerated but discouraged (pytest shows these in its summary)."""
