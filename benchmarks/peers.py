"""emergebench side by side with inspect_ai and lm-eval (issue #18, item 4): the same N prompts
through each tool's own command line against the same fixed-latency OpenAI-compatible server on
127.0.0.1 (the project's fake server, which answers "What is A + B?" right), interleaved (the order of
the tools rotates every repetition), medians of ``--reps``.

Each tool is installed from PyPI into a throwaway virtual environment kept under ``--venvs``
(default: the user cache folder), pinned as scripts/gen_import_fixtures.py pins them; emergebench is
the one this script runs from. The prompts are testtask/qa's for the repetition's seed (every
repetition new prompts, so no tool's cache helps); every tool gets 16 output tokens at temperature 0
and ``--concurrency`` requests in flight, and writes its per-sample log (emergebench its journal and
registry, inspect_ai its .eval log, lm-eval ``--log_samples``).

Reported per tool and size: wall time from process start to exit, % of the ideal (N x latency /
concurrency) from start and over the active period (first request to exit: end-of-run work
included), time to the first request, CPU ms per sample (process and children, ``RUSAGE_CHILDREN``)
and peak RSS (each Python process's own VmHWM, see tests/peakrss), plus ``--help`` start-up. CPU and
peak RSS do not depend on the machine's load; wall figures do, so the load average is printed beside
each repetition.

    .venv/bin/python benchmarks/peers.py --sizes 1000,5000,10000 --reps 3 --json peers.json
    .venv/bin/python benchmarks/peers.py --venvs /tmp/peer-venvs --sizes 1000 --reps 3 --tools emergebench,lmeval
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import tempfile
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import platformdirs
from cli_bench import CONCURRENCY, run_command, run_row, summarise, warm_home
from cli_runs import EMERGEBENCH, ROOT, Measured, TimedServer, loadavg, measure, questions, versions

MAX_TOKENS = 16


def _fixtures_script() -> Any:
    """scripts/gen_import_fixtures.py: the pinned peer versions and how their venvs are built."""
    spec = importlib.util.spec_from_file_location("gen_import_fixtures", ROOT / "scripts" / "gen_import_fixtures.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class Tool:
    """One tool: how to write its inputs for N prompts and the command that runs them."""

    name: str

    def prepare(self, work: Path, prompts: list[tuple[str, str, str]], base_url: str, seed: int) -> list[str]:
        raise NotImplementedError

    def env(self, work: Path, base_url: str) -> dict[str, str]:
        return {}

    def help(self) -> list[str]:
        raise NotImplementedError


class Emergebench(Tool):
    name = "emergebench"

    def __init__(self, home_env: dict[str, str]) -> None:
        self.home_env = home_env

    def prepare(self, work: Path, prompts: list[tuple[str, str, str]], base_url: str, seed: int) -> list[str]:
        return run_command(len(prompts), seed, base_url)

    def env(self, work: Path, base_url: str) -> dict[str, str]:
        return self.home_env

    def help(self) -> list[str]:
        return [EMERGEBENCH, "--help"]


class Inspect(Tool):
    name = "inspect"
    TASK = """\
        from inspect_ai import Task, task
        from inspect_ai.dataset import json_dataset
        from inspect_ai.scorer import match
        from inspect_ai.solver import generate


        @task
        def addition():
            return Task(dataset=json_dataset("samples.jsonl"), solver=generate(), scorer=match(numeric=True))
        """

    def __init__(self, bin_dir: Path) -> None:
        self.bin = bin_dir

    def prepare(self, work: Path, prompts: list[tuple[str, str, str]], base_url: str, seed: int) -> list[str]:
        (work / "samples.jsonl").write_text(
            "".join(json.dumps({"id": i, "input": q, "target": t}) + "\n" for i, q, t in prompts)
        )
        (work / "addition.py").write_text(textwrap.dedent(self.TASK))
        return [
            str(self.bin / "inspect"),
            "eval",
            "addition.py",
            "--model",
            "openai-api/local/bench",
            "--max-connections",
            str(CONCURRENCY),
            "--max-samples",
            str(CONCURRENCY),
            "--max-tokens",
            str(MAX_TOKENS),
            "--temperature",
            "0",
            "--log-dir",
            str(work / "logs"),
        ]

    def env(self, work: Path, base_url: str) -> dict[str, str]:
        return {"LOCAL_BASE_URL": base_url, "LOCAL_API_KEY": "bench-key", "INSPECT_LOG_DIR": str(work / "logs")}

    def help(self) -> list[str]:
        return [str(self.bin / "inspect"), "--help"]


class LmEval(Tool):
    name = "lmeval"
    YAML = """\
        task: addition
        dataset_path: json
        dataset_kwargs:
          data_files:
            test: {data}
        test_split: test
        output_type: generate_until
        doc_to_text: "{{{{question}}}}"
        doc_to_target: "{{{{answer}}}}"
        generation_kwargs:
          until: []
          max_gen_toks: {max_tokens}
          temperature: 0
        metric_list:
          - metric: exact_match
            aggregation: mean
            higher_is_better: true
        metadata:
          version: 1.0
        """

    def __init__(self, bin_dir: Path) -> None:
        self.bin = bin_dir

    def prepare(self, work: Path, prompts: list[tuple[str, str, str]], base_url: str, seed: int) -> list[str]:
        tasks = work / "tasks"
        tasks.mkdir()
        data = tasks / "addition.jsonl"
        data.write_text("".join(json.dumps({"question": q, "answer": t}) + "\n" for _, q, t in prompts))
        (tasks / "addition.yaml").write_text(textwrap.dedent(self.YAML).format(data=data, max_tokens=MAX_TOKENS))
        model_args = f"model=bench,base_url={base_url}/chat/completions,num_concurrent={CONCURRENCY},"
        model_args += "tokenized_requests=False,max_retries=3"
        return [
            str(self.bin / "lm_eval"),
            "--model",
            "local-chat-completions",
            "--model_args",
            model_args,
            "--tasks",
            "addition",
            "--include_path",
            str(tasks),
            "--apply_chat_template",
            "--log_samples",
            "--output_path",
            str(work / "out"),
        ]

    def env(self, work: Path, base_url: str) -> dict[str, str]:
        return {
            "OPENAI_API_KEY": "bench-key",
            "HF_HOME": str(work / "hf"),
            "HF_DATASETS_OFFLINE": "1",
            "HF_HUB_OFFLINE": "1",
        }

    def help(self) -> list[str]:
        return [str(self.bin / "lm_eval"), "--help"]


def rotate(items: list[Any], by: int) -> list[Any]:
    by %= len(items)
    return items[by:] + items[:by]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--venvs", type=Path, default=Path(platformdirs.user_cache_dir("emergebench")) / "peer-venvs")
    parser.add_argument("--sizes", default="1000,5000,10000")
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--latency", type=float, default=0.2)
    parser.add_argument("--tools", default="emergebench,inspect,lmeval")
    parser.add_argument("--help-reps", type=int, default=None, help="--help repetitions (default: --reps)")
    parser.add_argument("--json", type=Path, help="write every repetition here (rewritten after each one)")
    parser.add_argument("--report", type=Path, help="only print the tables of a --json file written earlier")
    args = parser.parse_args()
    if args.report:
        saved = json.loads(args.report.read_text())["runs"]
        names = [t for t in args.tools.split(",") if any(k.startswith(t + " ") for k in saved)]
        found = sorted({int(k.split("n=")[1]) for k in saved if " n=" in k})
        report(saved, names, found)
        return
    sizes = [int(s) for s in args.sizes.split(",") if s]
    wanted = args.tools.split(",")
    fixtures = _fixtures_script()
    args.venvs.mkdir(parents=True, exist_ok=True)
    info = {**versions(), "peers": fixtures.TOOLS}
    print(json.dumps(info), flush=True)
    every: dict[str, list[dict[str, Any]]] = {}

    def save() -> None:
        if args.json:
            args.json.write_text(json.dumps({"versions": info, "runs": every}, indent=2))

    with tempfile.TemporaryDirectory() as tmp:
        tools: list[Tool] = []
        for name in wanted:
            if name == "emergebench":
                tools.append(Emergebench(warm_home(Path(tmp) / "home")))
            elif name == "inspect":
                tools.append(Inspect(fixtures.ensure_venv(args.venvs, "inspect")))
            elif name == "lmeval":
                tools.append(LmEval(fixtures.ensure_venv(args.venvs, "lmeval")))
            else:
                raise SystemExit(f"unknown tool {name!r}; choose from emergebench, inspect, lmeval")
        for rep in range(args.help_reps if args.help_reps is not None else args.reps):
            for tool in rotate(tools, rep):
                done = measure(tool.help(), tool.env(Path(tmp), ""))
                assert done.returncode == 0, done.stderr[-2000:]
                every.setdefault(f"{tool.name} --help", []).append({**done.row(), "load": loadavg()})
        save()
        seed = 5000
        with TimedServer(args.latency) as server:
            for n in sizes:
                for rep in range(args.reps):
                    seed += 1
                    prompts = questions(n, seed)
                    for tool in rotate(tools, rep):
                        work = Path(tmp) / f"{tool.name}-{n}-{rep}"
                        work.mkdir()
                        command = tool.prepare(work, prompts, server.base_url, seed)
                        done = measure(command, tool.env(work, server.base_url), server, cwd=work)
                        check(tool.name, n, done)
                        row = run_row(n, args.latency, done)
                        every.setdefault(f"{tool.name} n={n}", []).append(row)
                        print(
                            f"{tool.name} n={n} rep {rep + 1}: wall {row['wall_s']:.1f} s, "
                            f"{100 * row['of_ideal_active']:.1f}% of ideal (active), "
                            f"CPU {row['cpu_ms_per_sample']:.2f} ms/sample, peak {row['peak_mb']:.0f} MB, "
                            f"load {row['load']}",
                            flush=True,
                        )
                        save()
    report(every, wanted, sizes)


def check(name: str, n: int, done: Measured) -> None:
    """Every tool must have made its N requests and finished (exit 0; emergebench 1 is a run whose
    scores it judged failed, which testtask's right answers never are)."""
    if done.returncode != 0 or done.requests < n:
        raise SystemExit(
            f"{name} with {n} prompts: exit {done.returncode}, {done.requests} requests\n{done.stderr[-3000:]}"
        )


def report(every: dict[str, list[dict[str, Any]]], tools: list[str], sizes: list[int]) -> None:
    keys = ["wall_s", "active_s", "first_request_s", "after_last_request_s", "of_ideal_from_start", "of_ideal_active"]
    keys += ["cpu_ms_per_sample"]
    keys += ["peak_mb", "child_peak_mb", "cpu_s"]
    fmt: dict[str, Callable[[float], str]] = {
        "wall_s": lambda v: f"{v:.2f} s",
        "active_s": lambda v: f"{v:.2f} s",
        "first_request_s": lambda v: f"{v:.2f} s",
        "after_last_request_s": lambda v: f"{v:.2f} s",
        "of_ideal_from_start": lambda v: f"{100 * v:.1f}%",
        "of_ideal_active": lambda v: f"{100 * v:.1f}%",
        "cpu_ms_per_sample": lambda v: f"{v:.2f}",
        "peak_mb": lambda v: f"{v:.0f} MB",
        "child_peak_mb": lambda v: f"{v:.0f} MB",
        "cpu_s": lambda v: f"{v:.2f} s",
    }
    print(
        "\n| tool | N | wall (start to exit) | % ideal from start | % ideal, first request to exit | "
        "first request | last request to exit | CPU ms/sample | peak RSS (child) | loads |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for n in sizes:
        for tool in tools:
            rows = every.get(f"{tool} n={n}")
            if not rows:
                continue
            s = summarise(rows, keys)
            cell = {k: fmt[k](s[k]) if s.get(k) is not None else "-" for k in keys}
            child = f" ({cell['child_peak_mb']})" if s.get("child_peak_mb") is not None else ""
            print(
                f"| {tool} | {n:,} | {cell['wall_s']} | {cell['of_ideal_from_start']} | {cell['of_ideal_active']} | "
                f"{cell['first_request_s']} | {cell['after_last_request_s']} | {cell['cpu_ms_per_sample']} | "
                f"{cell['peak_mb']}{child} | "
                f"{'; '.join(s['loads'])} |"
            )
    print("\n| tool | `--help` wall | CPU | peak RSS | loads |")
    print("|---|---|---|---|---|")
    for tool in tools:
        rows = every.get(f"{tool} --help")
        if rows:
            s = summarise(rows, ["wall_s", "cpu_s", "peak_mb"])
            loads = "; ".join(s["loads"])
            print(f"| {tool} | {s['wall_s']:.2f} s | {s['cpu_s']:.2f} s | {s['peak_mb']:.0f} MB | {loads} |")


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main()
