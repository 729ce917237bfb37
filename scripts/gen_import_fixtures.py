"""Regenerate the importers' test fixtures with the real tools: inspect_ai and lm-evaluation-harness,
each installed into a throwaway virtual environment, run a tiny addition task against the project's
OpenAI-compatible test server on 127.0.0.1, and their own log files are copied into
``registry/tests/fixtures/imports/``. Nothing here is hand-written in those formats.

    .venv/bin/python scripts/gen_import_fixtures.py [--venvs DIR] [--out DIR]

``--venvs`` keeps the throwaway environments between runs (they take minutes to install).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "registry" / "tests" / "fixtures" / "imports"
TOOLS = {"inspect": ["inspect-ai==0.3.285", "openai"], "lmeval": ["lm-eval[api]==0.4.13"]}
# (question, target): the test server answers every "What is A + B?" correctly, so the last target
# is deliberately wrong to give the logs one incorrect sample.
QUESTIONS = [(f"What is {i} + {i + 1}?", str(2 * i + 1)) for i in range(5)] + [("What is 7 + 7?", "15")]


def ensure_venv(base: Path, name: str) -> Path:
    env = base / name
    python = env / "bin" / "python"
    if not python.exists():
        venv.create(env, with_pip=True)
    marker = env / ".installed"
    if not marker.exists() or marker.read_text() != " ".join(TOOLS[name]):
        subprocess.run([str(python), "-m", "pip", "install", "-q", *TOOLS[name]], check=True)
        marker.write_text(" ".join(TOOLS[name]))
    return env / "bin"


def start_server() -> tuple[subprocess.Popen[str], str]:
    server = subprocess.Popen(
        [sys.executable, "-m", "emergebench_testing.openai_server", "--port", "0"],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert server.stdout is not None
    line = server.stdout.readline()
    url = next(word for word in line.split() if word.startswith("http://"))
    return server, url.rstrip("/")


def run_inspect(bin_dir: Path, base_url: str, work: Path, out: Path) -> None:
    task = work / "addition.py"
    samples = ",\n        ".join(f"Sample(input={q!r}, target={t!r}, id={i})" for i, (q, t) in enumerate(QUESTIONS))
    task.write_text(
        textwrap.dedent(
            """\
            from inspect_ai import Task, task
            from inspect_ai.dataset import Sample
            from inspect_ai.scorer import match
            from inspect_ai.solver import generate


            @task
            def addition():
                return Task(dataset=[
                    {samples}
                ], solver=generate(), scorer=match(numeric=True))
            """
        ).format(samples=samples)
    )
    # openai-api/<service>/<model>: inspect's provider for OpenAI-compatible chat endpoints.
    env = {**os.environ, "LOCAL_BASE_URL": base_url, "LOCAL_API_KEY": "test-key", "INSPECT_LOG_DIR": str(work)}
    for fmt in ("eval", "json"):
        logs = work / f"logs-{fmt}"
        subprocess.run(
            [
                str(bin_dir / "inspect"),
                "eval",
                task.name,
                "--model",
                "openai-api/local/smollm2-135m-instruct",
                "--log-format",
                fmt,
                "--log-dir",
                str(logs),
                "--max-connections",
                "2",
            ],
            check=True,
            env=env,
            cwd=work,
        )
        (log,) = logs.glob(f"*.{fmt}")
        if fmt == "json" and json.loads(log.read_text())["status"] != "success":
            raise SystemExit(f"inspect's run did not succeed: see {log}")
        shutil.copy(log, out / f"inspect-addition.{fmt}")


def run_lmeval(
    bin_dir: Path, base_url: str, work: Path, out: Path, model: str = "smollm2-135m-instruct", dest: str = "lm-eval"
) -> None:
    tasks = work / "tasks"
    tasks.mkdir(exist_ok=True)
    data = tasks / "addition.jsonl"
    data.write_text("".join(json.dumps({"question": q, "answer": t}) + "\n" for q, t in QUESTIONS))
    (tasks / "addition.yaml").write_text(
        textwrap.dedent(
            f"""\
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
              max_gen_toks: 8
            metric_list:
              - metric: exact_match
                aggregation: mean
                higher_is_better: true
            metadata:
              version: 1.0
            """
        )
    )
    results = work / "lmeval-out"
    env = {**os.environ, "OPENAI_API_KEY": "test-key", "HF_DATASETS_OFFLINE": "1", "HF_HUB_OFFLINE": "1"}
    subprocess.run(
        [
            str(bin_dir / "lm_eval"),
            "--model",
            "local-chat-completions",
            "--model_args",
            f"model={model},base_url={base_url}/chat/completions,num_concurrent=1,tokenized_requests=False",
            "--tasks",
            "addition",
            "--include_path",
            str(tasks),
            "--apply_chat_template",
            "--log_samples",
            "--output_path",
            str(results),
        ],
        check=True,
        env=env,
        cwd=work,
    )
    (result,) = results.rglob("results_*.json")
    (samples,) = results.rglob("samples_addition_*.jsonl")
    target = out / dest  # lm-eval's own file names: the importer pairs results and samples by them
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir()
    shutil.copy(result, target / result.name)
    shutil.copy(samples, target / samples.name)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--venvs", type=Path, help="keep the throwaway environments here")
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--only", choices=sorted(TOOLS), action="append")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        base = args.venvs or Path(tmp) / "venvs"
        base.mkdir(parents=True, exist_ok=True)
        server, url = start_server()
        try:
            for name in args.only or sorted(TOOLS):
                work = Path(tmp) / name
                work.mkdir()
                runner = run_inspect if name == "inspect" else run_lmeval
                runner(ensure_venv(base, name), url, work, args.out)
        finally:
            server.terminate()
            server.wait(10)
    print(f"wrote fixtures to {args.out}")


if __name__ == "__main__":
    main()
