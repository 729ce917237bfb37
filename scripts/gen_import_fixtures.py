"""Regenerate the importers' test fixtures with the real tools: inspect_ai, lm-evaluation-harness and
HELM (crfm-helm), each installed into a throwaway virtual environment, run a tiny addition task against
the project's OpenAI-compatible test server on 127.0.0.1, and their own log files are copied into
``registry/tests/fixtures/imports/``. HELM also runs its built-in ``simple1`` debugging scenario on its
built-in ``simple/model1`` (several trials and completions per instance). Nothing here is hand-written
in those formats.

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
TOOLS = {
    "inspect": ["inspect-ai==0.3.285", "openai"],
    "lmeval": ["lm-eval[api]==0.4.13"],
    "helm": ["crfm-helm==0.5.16"],
}
# HELM's OpenAI client (its "openai" extra, without tiktoken: the test model uses HELM's simple tokenizer)
HELM_EXTRA = ["openai~=2.8"]
# HELM's text path needs torch but not torchvision, which it declares: asking for torchvision pulls a
# CUDA build of torch (gigabytes). So torch is the CPU 2.13.0 wheel, then HELM without dependencies,
# then its declared dependencies except torch and torchvision, held to that torch.
HELM_TORCH = "torch==2.13.0"
HELM_FILES = ("run_spec.json", "scenario_state.json", "stats.json", "per_instance_stats.json")
# (question, target): the test server answers every "What is A + B?" correctly, so the last target
# is deliberately wrong to give the logs one incorrect sample.
QUESTIONS = [(f"What is {i} + {i + 1}?", str(2 * i + 1)) for i in range(5)] + [("What is 7 + 7?", "15")]


def ensure_venv(base: Path, name: str) -> Path:
    env = base / name
    python = env / "bin" / "python"
    if not python.exists():
        venv.create(env, with_pip=True)
    marker = env / ".installed"
    wanted = " ".join(TOOLS[name] + (HELM_EXTRA if name == "helm" else []))
    if not marker.exists() or marker.read_text() != wanted:
        if name == "helm":
            install_helm(python)
        else:
            subprocess.run([str(python), "-m", "pip", "install", "-q", *TOOLS[name]], check=True)
        marker.write_text(wanted)
    return env / "bin"


def install_helm(python: Path) -> None:
    pip = [str(python), "-m", "pip", "install", "-q"]
    subprocess.run([*pip, HELM_TORCH], check=True)
    subprocess.run([*pip, "--no-deps", *TOOLS["helm"]], check=True)
    listed = subprocess.run(
        [str(python), "-c", "import importlib.metadata as m; print('\\n'.join(m.requires('crfm-helm') or []))"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.splitlines()
    needed = [r for r in listed if "extra ==" not in r and not r.lower().startswith(("torch", "torchvision"))]
    needed += HELM_EXTRA
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as pins:
        pins.write(HELM_TORCH + "\n")
    try:
        subprocess.run([*pip, "-c", pins.name, *needed], check=True)
    finally:
        os.unlink(pins.name)


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


HELM_PLUGIN = """\
from helm.benchmark.adaptation.common_adapter_specs import get_generation_adapter_spec
from helm.benchmark.metrics.common_metric_specs import get_exact_match_metric_specs
from helm.benchmark.run_spec import RunSpec, run_spec_function
from helm.benchmark.scenarios.scenario import (
    CORRECT_TAG, TEST_SPLIT, Input, Instance, Output, Reference, Scenario, ScenarioSpec,
)

QUESTIONS = {questions!r}


class AdditionScenario(Scenario):
    name = "addition"
    description = "Six sums, the last target deliberately wrong"
    tags = ["question answering"]

    def get_instances(self, output_path):
        return [
            Instance(Input(text=q), references=[Reference(Output(text=t), tags=[CORRECT_TAG])], split=TEST_SPLIT)
            for q, t in QUESTIONS
        ]


@run_spec_function("addition")
def get_addition_spec() -> RunSpec:
    return RunSpec(
        name="addition",
        scenario_spec=ScenarioSpec(class_name="helm_addition.AdditionScenario"),
        adapter_spec=get_generation_adapter_spec(max_train_instances=0, max_tokens=8),
        metric_specs=get_exact_match_metric_specs(),
        groups=["addition"],
    )
"""

HELM_DEPLOYMENT = """\
model_deployments:
  - name: local/smollm2-135m-instruct
    model_name: local/smollm2-135m-instruct
    tokenizer_name: simple/tokenizer1
    max_sequence_length: 2048
    client_spec:
      class_name: "helm.clients.vllm_client.VLLMChatClient"
      args:
        base_url: {base_url}
        vllm_model_name: smollm2-135m-instruct
"""

HELM_MODEL = """\
models:
  - name: local/smollm2-135m-instruct
    display_name: SmolLM2 135M Instruct (emergebench test server)
    description: The project's OpenAI-compatible test server on 127.0.0.1
    creator_organization_name: emergebench
    access: open
    release_date: 2024-11-01
    tags: [TEXT_MODEL_TAG, FULL_FUNCTIONALITY_TEXT_MODEL_TAG, INSTRUCTION_FOLLOWING_MODEL_TAG]
"""


def run_helm(bin_dir: Path, base_url: str, work: Path, out: Path) -> None:
    """Two real HELM runs: the addition scenario (a plugin) on the test server through HELM's own
    OpenAI-compatible chat client, and HELM's built-in simple1 scenario on its simple/model1."""
    (work / "helm_addition.py").write_text(HELM_PLUGIN.format(questions=QUESTIONS))
    prod_env = work / "prod_env"
    prod_env.mkdir(exist_ok=True)
    (prod_env / "model_deployments.yaml").write_text(HELM_DEPLOYMENT.format(base_url=base_url))
    (prod_env / "model_metadata.yaml").write_text(HELM_MODEL)
    # HELM's metrics modules fetch nltk's punkt_tab at import unless it is found; the metrics run here
    # (exact match) never use it, so an empty stand-in keeps HELM from reaching for the network.
    (work / "nltk_data" / "tokenizers" / "punkt_tab").mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "NLTK_DATA": str(work / "nltk_data"),
        "PYTHONPATH": str(work),
        "HF_DATASETS_OFFLINE": "1",
        "HF_HUB_OFFLINE": "1",
        "OPENAI_API_KEY": "test-key",
    }
    output = work / "benchmark_output"
    for entry, limit in (("addition:model=local/smollm2-135m-instruct", 6), ("simple1:model=simple/model1", 3)):
        subprocess.run(
            [
                str(bin_dir / "helm-run"),
                "--run-entries",
                entry,
                "--suite",
                "fixtures",
                "--max-eval-instances",
                str(limit),
                "--plugins",
                "helm_addition",
                "--local-path",
                str(prod_env),
                "--output-path",
                str(output),
                "--num-threads",
                "1",
                "--exit-on-error",
            ],
            check=True,
            env=env,
            cwd=work,
        )
    dest = out / "helm"
    shutil.rmtree(dest, ignore_errors=True)
    runs = output / "runs" / "fixtures"
    for run_dir in sorted(p for p in runs.iterdir() if (p / "run_spec.json").is_file()):
        # HELM's own folder layout (runs/<suite>/<run name>), only the files the importer reads
        target = dest / "runs" / "fixtures" / run_dir.name
        target.mkdir(parents=True)
        for name in HELM_FILES:
            shutil.copy(run_dir / name, target / name)


RUNNERS = {"inspect": run_inspect, "lmeval": run_lmeval, "helm": run_helm}


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
                RUNNERS[name](ensure_venv(base, name), url, work, args.out)
        finally:
            server.terminate()
            server.wait(10)
    print(f"wrote fixtures to {args.out}")


if __name__ == "__main__":
    main()
