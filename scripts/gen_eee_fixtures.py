"""Regenerate the Every Eval Ever test fixtures with Every Eval Ever's own converters and validator.

every-eval-ever needs Python >= 3.12, so it is installed (with its ``inspect`` extra, at the inspect_ai
version that wrote our inspect fixture) into a throwaway 3.12 environment. Its converters then turn
the real logs into EEE records:

* ``convert inspect`` reads ``registry/tests/fixtures/imports/inspect-addition.json`` (inspect_ai's
  own log, see gen_import_fixtures.py);
* ``convert lm_eval`` reads an lm-evaluation-harness run made here against the project's
  OpenAI-compatible test server. It is a second run of the same task because EEE's converter takes
  the model's developer from an org-qualified name (``HuggingFaceTB/...``) and refuses the plain
  ``smollm2-135m-instruct`` the lm-eval fixture uses ("model_info.developer is required"). Only the
  aggregate is converted: every-eval-ever 0.3.0's ``--include_samples`` fails on a chat-template run
  (lm-eval logs the prompt as a list of messages and EEE's ``Input.raw`` wants a string), and our
  test server speaks only the chat API. The inspect records carry the instance-level rows.

Every written file is checked with ``every_eval_ever validate`` before it is copied to
``registry/tests/fixtures/imports/eee/`` (EEE's datastore layout, ``data/<collection>/<developer>/
<model>/<uuid>.json`` plus ``<uuid>_samples.jsonl``). Nothing is hand-written.

    .venv/bin/python scripts/gen_eee_fixtures.py [--venvs DIR]
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from gen_import_fixtures import OUT, ensure_venv, run_lmeval, start_server  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
EEE = ["every-eval-ever[inspect]==0.3.0", "inspect-ai==0.3.285"]
ORG_MODEL = "HuggingFaceTB/SmolLM2-135M-Instruct"
SOURCE = ["--source_organization_name", "emergebench", "--evaluator_relationship", "third_party"]


def python312() -> Path:
    """A Python >= 3.12 interpreter: the one setup.sh found for .venv-eee, else PATH, else pyenv."""
    found = subprocess.run(
        ["bash", str(ROOT / "scripts" / "find_python312.sh")], capture_output=True, text=True, check=False
    )
    if found.returncode != 0 or not found.stdout.strip():
        raise SystemExit(f"every-eval-ever needs Python >= 3.12 and none was found: {found.stderr.strip()}")
    return Path(found.stdout.strip())


def ensure_eee_venv(base: Path) -> Path:
    env = base / "eee312"
    if not (env / "bin" / "python").exists():
        subprocess.run([str(python312()), "-m", "venv", str(env)], check=True)
    marker = env / ".installed"
    if not marker.exists() or marker.read_text() != " ".join(EEE):
        subprocess.run([str(env / "bin" / "python"), "-m", "pip", "install", "-q", *EEE], check=True)
        marker.write_text(" ".join(EEE))
    return env / "bin"


def convert(eee_bin: Path, kind: str, log: Path, out: Path, *extra: str) -> None:
    subprocess.run(
        [str(eee_bin / "every_eval_ever"), "convert", kind, "--log_path", str(log), "--output_dir", str(out)]
        + SOURCE
        + list(extra),
        check=True,
    )


def validate(eee_bin: Path, data_root: Path) -> list[Path]:
    """Every record under ``data_root`` (the folder holding ``data/``), checked by EEE's validator."""
    files = sorted(p for p in (data_root / "data").rglob("*") if p.suffix in (".json", ".jsonl"))
    if not files:
        raise SystemExit(f"the converters wrote no records under {data_root}")
    relative = [str(p.relative_to(data_root)) for p in files]
    subprocess.run([str(eee_bin / "every_eval_ever"), "validate", *relative], check=True, cwd=data_root)
    return files


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--venvs", type=Path, help="keep the throwaway environments here")
    parser.add_argument("--out", type=Path, default=OUT / "eee")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        base = args.venvs or Path(tmp) / "venvs"
        base.mkdir(parents=True, exist_ok=True)
        eee_bin = ensure_eee_venv(base)
        work = Path(tmp) / "lmeval"
        work.mkdir()
        server, url = start_server()
        try:
            run_lmeval(ensure_venv(base, "lmeval"), url, work, work, ORG_MODEL, "lm-eval-org")
        finally:
            server.terminate()
            server.wait(10)
        converted = Path(tmp) / "converted"
        (results,) = (work / "lm-eval-org").glob("results_*.json")
        convert(eee_bin, "lm_eval", results, converted / "data")
        convert(eee_bin, "inspect", OUT / "inspect-addition.json", converted / "data")
        validate(eee_bin, converted)
        shutil.rmtree(args.out, ignore_errors=True)
        shutil.copytree(converted / "data", args.out / "data")
    print(f"wrote EEE fixtures to {args.out}")


if __name__ == "__main__":
    main()
