"""A sweep as data: models x tasks x task-argument grids x seeds, read from a TOML/YAML file or from
command-line options, expanded into de-duplicated run specs (the format is in docs/sweeps.md)."""

from __future__ import annotations

import itertools
import json
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from ..errors import UsageError
from ..plugins import PluginManager
from ..records import GenerateConfig, RunSpec
from ..runner import build_spec, split_secrets, validate_args


class ModelEntry(BaseModel):
    """One model of the ladder; ``args`` are its -M options (secret ones never reach a spec)."""

    model_config = ConfigDict(extra="forbid")
    id: str
    args: dict[str, Any] = Field(default_factory=dict)


class TaskEntry(BaseModel):
    """One task: fixed ``args`` plus a ``grid`` whose lists are crossed (every combination is a run)."""

    model_config = ConfigDict(extra="forbid")
    name: str
    args: dict[str, Any] = Field(default_factory=dict)
    grid: dict[str, list[Any]] = Field(default_factory=dict)

    @field_validator("grid")
    @classmethod
    def _non_empty(cls, grid: dict[str, list[Any]]) -> dict[str, list[Any]]:
        for key, values in grid.items():
            if not values:
                raise ValueError(f"grid key {key!r} has no values")
        return grid


class SweepFile(BaseModel):
    """The sweep file's top level. Everything but ``models`` and ``tasks`` has a default."""

    model_config = ConfigDict(extra="forbid")
    models: list[str | ModelEntry] = Field(min_length=1)
    tasks: list[str | TaskEntry] = Field(min_length=1)
    seeds: list[int] = Field(default_factory=lambda: [0], min_length=1)
    limit: int | None = Field(default=None, ge=1)
    epochs: int = Field(default=1, ge=1)
    generate: GenerateConfig = Field(default_factory=GenerateConfig)
    grader: str | None = None
    grader_args: dict[str, Any] = Field(default_factory=dict)
    grader_model: str | ModelEntry | None = None
    cost_limit: float | None = Field(default=None, gt=0, description="US dollars for the whole sweep")
    max_calls_per_endpoint: int | None = Field(default=None, ge=1)
    endpoint_limits: dict[str, int] = Field(default_factory=dict, description="endpoint -> calls in flight")

    def model_entries(self) -> list[ModelEntry]:
        return [ModelEntry(id=m) if isinstance(m, str) else m for m in self.models]

    def task_entries(self) -> list[TaskEntry]:
        return [TaskEntry(name=t) if isinstance(t, str) else t for t in self.tasks]


@dataclass
class PlannedRun:
    """One run of the sweep: its spec, plus the secrets it needs (kept out of the spec)."""

    spec: RunSpec
    secrets: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def label(self) -> str:
        args = ",".join(f"{k}={json.dumps(v)}" for k, v in sorted(self.spec.task_args.items()))
        return f"{self.spec.task} {self.spec.model} seed={self.spec.seed}" + (f" [{args}]" if args else "")


def read_sweep_file(path: Path) -> SweepFile:
    """Parse a .toml, .yaml or .yml sweep file; errors name the file and the offending key."""
    suffix = path.suffix.lower()
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read sweep file {str(path)!r}: {exc}") from None
    try:
        if suffix == ".toml":
            data: Any = tomllib.loads(text)
        elif suffix in (".yaml", ".yml"):
            import yaml

            data = yaml.safe_load(text)
        else:
            raise UsageError(f"sweep file {str(path)!r} must end in .toml, .yaml or .yml")
    except (tomllib.TOMLDecodeError, ValueError) as exc:
        raise UsageError(f"sweep file {str(path)!r} is not valid {suffix[1:].upper()}: {exc}") from None
    except Exception as exc:  # yaml.YAMLError and friends
        if isinstance(exc, UsageError):
            raise
        raise UsageError(f"sweep file {str(path)!r} is not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise UsageError(f"sweep file {str(path)!r} must be a table/mapping with models = [...] and tasks = [...]")
    return parse_sweep(data, str(path))


def parse_sweep(data: dict[str, Any], where: str) -> SweepFile:
    return validate_args(SweepFile, data, f"sweep {where} (format: docs/sweeps.md)")  # type: ignore[return-value]


def grid_points(grid: dict[str, list[Any]]) -> list[dict[str, Any]]:
    """Every combination of the grid's values, in the order the keys and values are written."""
    keys = list(grid)
    return [dict(zip(keys, combo, strict=True)) for combo in itertools.product(*(grid[k] for k in keys))]


def expand(sweep: SweepFile, manager: PluginManager) -> list[PlannedRun]:
    """Models x tasks x grid points x seeds, validated against the installed plugins, each spec once
    (two entries that mean the same run, e.g. a default written out, collapse to one)."""
    planned: dict[str, PlannedRun] = {}
    judge = sweep.grader_model
    judge_entry = ModelEntry(id=judge) if isinstance(judge, str) else judge
    judge_public: dict[str, Any] = {}
    judge_secret: dict[str, Any] = {}
    if judge_entry is not None:
        judge_public, judge_secret = split_secrets(judge_entry.id, judge_entry.args, manager)
    for model in sweep.model_entries():
        public, secret = split_secrets(model.id, model.args, manager)
        for task in sweep.task_entries():
            for point in grid_points(task.grid):
                for seed in sweep.seeds:
                    spec = build_spec(
                        task.name,
                        model.id,
                        task_args={**task.args, **point},
                        model_args=public,
                        generate=sweep.generate,
                        grader=sweep.grader,
                        grader_args=sweep.grader_args,
                        grader_model=judge_entry.id if judge_entry else None,
                        grader_model_args=judge_public,
                        seed=seed,
                        limit=sweep.limit,
                        epochs=sweep.epochs,
                        manager=manager,
                    )
                    secrets: dict[str, dict[str, Any]] = {}
                    if secret:
                        secrets[model.id] = dict(secret)
                    if judge_entry is not None and judge_secret:
                        secrets.setdefault(judge_entry.id, {}).update(judge_secret)
                    planned.setdefault(spec.spec_id, PlannedRun(spec, secrets))
    return list(planned.values())
