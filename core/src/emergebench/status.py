"""What a run's status and exit code say (docs/architecture.md, "Status and exit code").

``complete`` means every expected (sample, epoch) has a result without error, nothing less. A run that
ran to its end with some samples failed is ``partial``, or ``failed`` when none succeeded; a run stopped
early (Ctrl-C, a journal that could not be written) is ``interrupted``. The exit code is non-zero when
a sample failed, unless the user allowed that many failures with ``--max-failures``.
"""

from __future__ import annotations

from .cli_types import FailureAllowance
from .records import RunResult, RunStatus

METRICS_FAILED = "metrics failed"


def final_status(n_expected: int, ok: int, *, stopped: bool, metrics_ok: bool) -> RunStatus:
    """The status of a run whose journal holds ``ok`` results without error."""
    if stopped:
        return "interrupted"
    if ok >= n_expected and metrics_ok:
        return "complete"
    return "failed" if ok == 0 else "partial"


def n_failed(result: RunResult) -> int:
    """Expected samples without a good result: failed ones and any that never ran."""
    return result.n_errors + max(0, result.n_expected - result.n_samples)


def failure_message(result: RunResult, allowance: FailureAllowance) -> str | None:
    """Why the run should exit non-zero, or None when it succeeded (within the allowance)."""
    if result.status == "interrupted":
        reason = result.stop_reason or "the run was stopped"
        return (
            f"Run {result.run_id} stopped early: {reason}. {result.n_samples} finished sample(s) are kept; "
            "re-run the same command (or add --resume) to continue."
        )
    failed = n_failed(result)
    allowed = allowance.allowed(result.n_expected)
    metrics_broken = [kind for kind in result.errors if kind.startswith(METRICS_FAILED)]
    if metrics_broken:
        return f"Run {result.run_id}: the task's {metrics_broken[0]}; the samples are kept in its journal."
    if failed <= allowed:
        return None
    kinds = ", ".join(f"{n} {kind}" for kind, n in sorted(result.errors.items(), key=lambda kv: -kv[1]))
    return (
        f"Run {result.run_id} is {result.status}: {failed} of {result.n_expected} sample(s) failed"
        + (f" ({kinds})" if kinds else "")
        + f", more than --max-failures allows ({allowance}, i.e. {allowed}). "
        "Re-run the same command to retry the failed samples, or raise --max-failures."
    )
