"""The reference's own prompt wording, read at run time from a user's local clone (``-T reference_repo=PATH``).

The reference (aronvallinder/llm-donor-game) builds its prompts in a Colab notebook with f-strings:
``system_prompt`` (a module-level assignment, with ``punishment_text_in_system_prompt`` chosen by an
if/elif chain), ``generate_strategy(agent_name, generationNumber, inherited_strategies)`` (assigns
``prompt`` in an if/else on the generation) and ``donorPrompt(donor, generation, round, recipient)``
(returns the donation prompt). This project does not copy that text: it reads it from the user's file.

The notebook is never executed. Its code cells are parsed with ``ast`` and only a tiny, closed set of
constructs is evaluated: string constants, f-strings, names bound by us or by earlier assignments,
attributes of the donor and recipient, ``==`` comparisons, ``if``/``elif``/``else`` and conditional
expressions. Anything else is skipped (an assignment we cannot evaluate leaves its name unbound), and a
prompt that cannot be built names the file, the function and the construct that stopped it.
"""

from __future__ import annotations

import ast
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from emergebench import UsageError

from .engine import EncounterView
from .prompts import survivor_list
from .settings import GameRules

NOTEBOOK = "Donor_Game_with_Cultural_Evolution.ipynb"


class ReferenceFormatError(UsageError):
    """The file does not hold the prompt code this reader expects."""


class _Unsupported(Exception):
    """An expression outside the closed set this reader evaluates."""


def _eval(node: ast.expr, env: dict[str, Any]) -> Any:
    if isinstance(node, ast.Constant) and isinstance(node.value, str | int | float | bool | type(None)):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(str(_eval(part, env)) for part in node.values)
    if isinstance(node, ast.FormattedValue):
        value = _eval(node.value, env)
        spec = _eval(node.format_spec, env) if node.format_spec is not None else ""
        if node.conversion == ord("r"):
            value = repr(value)
        return format(value, spec)
    if isinstance(node, ast.Name):
        if node.id not in env:
            raise _Unsupported(f"name {node.id!r}")
        return env[node.id]
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
        owner = _eval(node.value, env)
        if not isinstance(owner, SimpleNamespace) or not hasattr(owner, node.attr):
            raise _Unsupported(f"attribute {node.value.id}.{node.attr}")
        return getattr(owner, node.attr)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, right = _eval(node.left, env), _eval(node.right, env)
        if not (isinstance(left, str) and isinstance(right, str)):
            raise _Unsupported("+ of non-strings")
        return left + right
    if isinstance(node, ast.Compare) and len(node.ops) == 1 and isinstance(node.ops[0], ast.Eq | ast.NotEq):
        equal = _eval(node.left, env) == _eval(node.comparators[0], env)
        return equal if isinstance(node.ops[0], ast.Eq) else not equal
    if isinstance(node, ast.IfExp):
        return _eval(node.body, env) if _eval(node.test, env) else _eval(node.orelse, env)
    raise _Unsupported(type(node).__name__)


def _run(
    body: list[ast.stmt], env: dict[str, Any], pinned: frozenset[str] = frozenset(), *, returns: bool = True
) -> Any:
    """Interpret assignments, if-chains and a return; skip the rest. Returns what ``return`` gives.

    With ``returns=False`` a ``return`` ends the run unevaluated (only the bound names are wanted).
    """
    for statement in body:
        if isinstance(statement, ast.Assign) and all(isinstance(t, ast.Name) for t in statement.targets):
            names = [t.id for t in statement.targets if isinstance(t, ast.Name) and t.id not in pinned]
            try:
                value = _eval(statement.value, env)
            except _Unsupported:
                for name in names:
                    env.pop(name, None)
                continue
            for name in names:
                env[name] = value
        elif isinstance(statement, ast.If):
            try:
                branch = statement.body if _eval(statement.test, env) else statement.orelse
            except _Unsupported:
                continue
            result = _run(branch, env, pinned, returns=returns)
            if result is not None:
                return result
        elif isinstance(statement, ast.Return) and statement.value is not None:
            if not returns:
                return None
            try:
                return _eval(statement.value, env)
            except _Unsupported as exc:
                message = f"the return value uses {exc}, which this reader does not evaluate"
                raise ReferenceFormatError(message) from None
    return None


def _cells(path: Path) -> list[ast.Module]:
    """The parsable code of a notebook's code cells (or of a .py file)."""
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".ipynb":
        try:
            notebook = json.loads(text)
            sources = [
                "".join(cell["source"]) if isinstance(cell["source"], list) else str(cell["source"])
                for cell in notebook["cells"]
                if cell.get("cell_type") == "code"
            ]
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            raise ReferenceFormatError(f"{path}: not a readable notebook ({exc})") from exc
    else:
        sources = [text]
    modules = []
    for source in sources:
        try:
            modules.append(ast.parse(source))
        except SyntaxError:  # shell magics (!pip ...) and the like
            continue
    return modules


@dataclass
class ReferencePrompts:
    """Prompts built from the reference notebook's own f-strings, with this run's values."""

    rules: GameRules
    path: Path
    sha256: str
    module_body: list[ast.stmt] = field(repr=False)
    functions: dict[str, ast.FunctionDef] = field(repr=False)

    source = "reference"

    @classmethod
    def load(cls, repo: str, rules: GameRules) -> ReferencePrompts:
        root = Path(repo).expanduser()
        path = root / NOTEBOOK if root.is_dir() else root
        if not path.is_file():
            raise ReferenceFormatError(
                f"-T reference_repo={repo}: no {NOTEBOOK} there; pass a local clone of "
                "https://github.com/aronvallinder/llm-donor-game (or the notebook file itself)"
            )
        modules = _cells(path)
        body = [statement for module in modules for statement in module.body]
        functions = {s.name: s for s in body if isinstance(s, ast.FunctionDef)}
        missing = [name for name in ("generate_strategy", "donorPrompt") if name not in functions]
        if missing:
            raise ReferenceFormatError(
                f"{path}: defines no function {', '.join(missing)}; is it the donor-game notebook?"
            )
        prompts = cls(rules, path, hashlib.sha256(path.read_bytes()).hexdigest(), body, functions)
        prompts.system()  # fail before any model call when the system prompt cannot be built
        return prompts

    def _settings(self) -> dict[str, Any]:
        return {
            "initial_endowment": self.rules.endowment,
            "cooperationGain": self.rules.multiplier,
            "punishmentLoss": self.rules.punishment_loss,
            "punishment_mechanism": "costly_punishment" if self.rules.punishment else "none",
        }

    def _need(self, value: Any, what: str) -> str:
        if not isinstance(value, str) or not value.strip():
            raise ReferenceFormatError(f"{self.path}: could not build the {what} from the notebook's code")
        return value

    def system(self) -> str:
        env = self._settings()
        pinned = frozenset(env)
        statements: list[ast.stmt] = [s for s in self.module_body if isinstance(s, ast.Assign | ast.If)]
        _run(statements, env, pinned)
        return self._need(env.get("system_prompt"), "system prompt (system_prompt = ...)")

    def _strategy(self, name: str, generation: int, inherited: str) -> str:
        env = {
            **self._settings(),
            "agent_name": name,
            "generationNumber": generation,
            "inherited_strategies": inherited,
        }
        _run(self.functions["generate_strategy"].body, env, frozenset(env), returns=False)
        return self._need(env.get("prompt"), f"strategy prompt of generation {generation} (generate_strategy)")

    def first_strategy(self, name: str) -> str:
        return self._strategy(name, 1, "")

    def inherited_strategy(self, name: str, generation: int, strategies: list[str], scores: list[float] | None) -> str:
        return self._strategy(name, generation, survivor_list(strategies, scores))

    def donation(self, view: EncounterView, strategy: str) -> str:
        # numbers as the reference holds them, so f-strings print them as it did (10, 12.5, 25.0)
        donor = SimpleNamespace(name=view.donor, resources=view.donor_resources, strategy=strategy, traces=[])
        recipient = SimpleNamespace(name=view.recipient, resources=view.recipient_resources, traces=[])
        env = {
            **self._settings(),
            "donor": donor,
            "recipient": recipient,
            "generation": view.generation,
            "round": view.round,
            "recipient_behavior": view.trace,
        }
        result = _run(self.functions["donorPrompt"].body, env, frozenset(env))
        return self._need(result, "donation prompt (donorPrompt)")

    def provenance(self) -> dict[str, Any]:
        return {"prompts_source": "reference", "reference_files": {self.path.name: self.sha256}}
