"""Where a task's rows come from: the Hugging Face dataset, a local copy, or the bundled sample set.

The Hub path downloads each split file once into the huggingface_hub cache (``HF_HOME``), pinned to
the commit the revision resolved to, and falls back to that cache when the Hub cannot be reached.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from emergebench import UsageError

from .layout import find_split_file, template_path
from .loader import SplitData, load_split
from .schema import TaskSchema

SAMPLE_DIR = Path(__file__).parent / "sample_data"
DEFAULT_REPO = "mightyweaver/MARS"
REFERENCE_REPO = "https://github.com/HKUST-KnowComp/MARS"


@dataclass(frozen=True)
class DataRequest:
    """The ``-T`` options that decide which files are read."""

    data: str = "hub"  # hub | sample
    data_dir: str | None = None
    repo_id: str = DEFAULT_REPO
    revision: str = "main"
    endpoint: str | None = None
    path_template: str | None = None
    variant: str = "standard"
    columns: dict[str, str] = field(default_factory=dict)


@dataclass
class LoadedSplit:
    data: SplitData
    origin: dict[str, Any]


def load(request: DataRequest, schema: TaskSchema, split: str) -> LoadedSplit:
    if request.data == "sample":
        if request.data_dir:
            raise UsageError("-T data=sample and -T data_dir= exclude each other: drop one of them")
        paths = _local_paths(SAMPLE_DIR, request, schema, split)
        origin = {"source": "sample", "note": "hand-written sample set bundled with emergebench-mars, not MARS data"}
    elif request.data_dir:
        root = Path(request.data_dir).expanduser()
        if not root.is_dir():
            raise UsageError(
                f"-T data_dir={request.data_dir!r} is not a directory; give the folder holding the MARS files"
            )
        paths = _local_paths(root, request, schema, split)
        origin = {"source": "local", "data_dir": str(root.resolve())}
    else:
        paths, origin = _hub_paths(request, schema, split)
    data = load_split(paths, schema, split, request.columns)
    return LoadedSplit(data=data, origin=origin)


def _local_paths(root: Path, request: DataRequest, schema: TaskSchema, split: str) -> list[Path]:
    if request.path_template:
        return [root / template_path(request.path_template, schema, split)]
    listing = [p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()]
    found = find_split_file(listing, schema, split, variant=request.variant, where=str(root))
    return [root / p for p in found]


def _endpoint(request: DataRequest) -> str | None:
    # huggingface_hub reads HF_ENDPOINT only at import time; read it per call so tests and users can set it late.
    return request.endpoint or os.environ.get("HF_ENDPOINT") or None


def _cache_dir() -> str | None:
    # huggingface_hub also freezes HF_HOME / HF_HUB_CACHE at import; honour their current values
    if os.environ.get("HF_HUB_CACHE"):
        return os.environ["HF_HUB_CACHE"]
    if os.environ.get("HF_HOME"):
        return os.path.join(os.environ["HF_HOME"], "hub")
    return None


def _hub_paths(request: DataRequest, schema: TaskSchema, split: str) -> tuple[list[Path], dict[str, Any]]:
    from huggingface_hub import HfApi, hf_hub_download
    from huggingface_hub.errors import GatedRepoError, RepositoryNotFoundError, RevisionNotFoundError

    endpoint = _endpoint(request)
    where = f"{endpoint or 'https://huggingface.co'}/datasets/{request.repo_id}@{request.revision}"
    origin: dict[str, Any] = {"source": "hub", "repo_id": request.repo_id, "revision": request.revision}
    try:
        info = HfApi(endpoint=endpoint).dataset_info(request.repo_id, revision=request.revision)
        commit = info.sha or request.revision
        listing = [s.rfilename for s in (info.siblings or [])]
        wanted = (
            [template_path(request.path_template, schema, split)]
            if request.path_template
            else find_split_file(listing, schema, split, variant=request.variant, where=where)
        )
        # download by the requested revision so the cache records refs/<revision> for offline use;
        # the snapshot folder names the commit actually served, which is what we record
        paths = [
            Path(
                hf_hub_download(
                    request.repo_id,
                    name,
                    repo_type="dataset",
                    revision=request.revision,
                    endpoint=endpoint,
                    cache_dir=_cache_dir(),
                )
            )
            for name in wanted
        ]
        commit = _snapshot_commit(paths[0], len(wanted[0].split("/"))) or commit
        origin.update(commit=commit, files=wanted)
        return paths, origin
    except RevisionNotFoundError as exc:
        raise UsageError(
            f"the dataset {request.repo_id} has no revision {request.revision!r} at {endpoint or 'the Hub'}; "
            "pass an existing branch, tag or commit with -T revision="
        ) from exc
    except (RepositoryNotFoundError, GatedRepoError) as exc:
        raise UsageError(
            f"cannot open the dataset {request.repo_id} at {endpoint or 'https://huggingface.co'}: "
            f"{type(exc).__name__}. {_how_to_get_data(request)}"
        ) from exc
    except UsageError:
        raise
    except Exception as exc:  # offline, DNS, TLS, 5xx: try the local cache before giving up
        cached = _cached_paths(request, schema, split, endpoint)
        if cached is not None:
            paths, commit = cached
            origin.update(commit=commit, files=[p.name for p in paths], offline=True)
            return paths, origin
        raise UsageError(
            f"the MARS data is not available: the Hugging Face Hub could not be reached ({type(exc).__name__}: "
            f"{str(exc)[:200]}) and no cached copy of {request.repo_id}@{request.revision} was found. "
            f"{_how_to_get_data(request)}"
        ) from exc


def _snapshot_commit(path: Path, depth: int) -> str | None:
    """The commit of a file in huggingface_hub's cache: ``.../snapshots/<commit>/<path in repo>``."""
    snapshot = path.parents[depth - 1]
    return snapshot.name if snapshot.parent.name == "snapshots" else None


def _cached_paths(
    request: DataRequest, schema: TaskSchema, split: str, endpoint: str | None
) -> tuple[list[Path], str] | None:
    from huggingface_hub import snapshot_download

    try:
        folder = Path(
            snapshot_download(
                request.repo_id,
                repo_type="dataset",
                revision=request.revision,
                local_files_only=True,
                endpoint=endpoint,
                cache_dir=_cache_dir(),
            )
        )
    except Exception:
        return None
    try:
        return _local_paths(folder, request, schema, split), folder.name
    except UsageError:
        return None  # cached, but without this split's file


def _how_to_get_data(request: DataRequest) -> str:
    return (
        "To get the data: on a machine with network access run "
        f"`hf download {request.repo_id} --repo-type dataset --local-dir ./mars-data` "
        "(or `huggingface-cli download ...` with older huggingface_hub), copy the folder here and pass "
        "-T data_dir=./mars-data; or download the folder linked from the README of "
        f"{REFERENCE_REPO} and pass -T data_dir= with it; or set HF_ENDPOINT / -T endpoint= to a reachable "
        "Hub mirror. To try the pipeline without MARS data, use -T data=sample (a small hand-written set)."
    )
