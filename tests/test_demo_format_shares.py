"""`emergebench demo` prints, per benchmark, the share of replies that could not be read (item 14.12)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from emergebench.format_failures import FormatShare, format_share, print_format_shares
from emergebench.records import Metric

EMERGEBENCH = str(Path(sys.executable).with_name("emergebench"))


def _share(metrics: list[Metric]) -> FormatShare:
    return format_share("t/x", metrics, "failed")


def test_share_is_the_ungrouped_value_or_the_weighted_mean_of_groups() -> None:
    plain = [Metric(name="failed", value=0.25, n=8), Metric(name="failed", value=1.0, n=2, group="k=9")]
    assert _share(plain) == FormatShare("t/x", "failed", 0.25, 8)
    grouped = [Metric(name="failed", value=0.5, n=2, group="k=2"), Metric(name="failed", value=0.0, n=6, group="k=3")]
    assert _share(list(grouped)) == FormatShare("t/x", "failed", 1 / 8, 8)  # (0.5*2 + 0*6) / 8
    assert _share([]).share is None


def test_printed_lines_flag_shares_at_or_above_target() -> None:
    lines: list[str] = []
    shares = [
        FormatShare("mars/transition", "extraction_failure_rate", 0.0, 4),
        FormatShare("donor-game", "failed_share", 0.25, 1),
    ]
    print_format_shares([*shares, FormatShare("skill-mix", "grader_parse_failure_rate", None, 0)], lines.append, "m/x")
    assert lines[0] == "Replies from m/x that could not be read (target: under 20% per task):"
    assert lines[1] == "  mars/transition    0.0%  extraction_failure_rate (n=4)"
    assert lines[2] == "  donor-game        25.0%  failed_share (n=1)  above target"
    assert "no value" in lines[3]


def test_demo_prints_the_shares_of_real_runs(tmp_path: Path) -> None:
    env = {**os.environ, "EMERGEBENCH_HOME": str(tmp_path), "COLUMNS": "200"}
    out = subprocess.run(
        [EMERGEBENCH, "demo", "-m", "mars/majority", "--task", "mars/transition"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr
    assert "Replies from mars/majority that could not be read (target: under 20% per task):" in out.stdout
    assert "mars/transition    0.0%  extraction_failure_rate (n=4)" in out.stdout
