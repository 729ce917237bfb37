"""Read prompt templates out of a local clone of the reference repository, without running its code.

The reference builds its prompts in Python: f-strings assigned under ``if include_prior`` branches,
module constants, string concatenation, and one method calling another. This module parses the files
with ``ast`` and evaluates only that string-building subset over values the caller supplies: names,
attributes of the supplied namespaces, f-strings, ``+``, comparisons, ``if``, ``return`` and calls to
methods of the reference's own classes. Everything else (simulation code, loops over data, model calls)
is skipped, and anything a text depends on that is not in that subset is an error naming the file and
function, never a guess. Nothing from the clone is imported or executed.
"""

from __future__ import annotations

import ast
import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = "kanishkg/boxing-gym"
MAX_FILE_BYTES = 2_000_000
MAX_TEXT_CHARS = 1_000_000
MAX_RANGE = 10_000


class ReferenceSourceError(ValueError):
    """A text could not be read from the clone; the message names the file, the function and why."""


class _Unknown:
    """A value the subset cannot compute (simulation results, model calls)."""

    def __repr__(self) -> str:
        return "<unknown>"


UNKNOWN = _Unknown()


class _Return(Exception):
    def __init__(self, value: Any) -> None:
        self.value = value


@dataclass
class Namespace:
    """Attributes the reference's ``self`` (or ``self.env``) exposes to its templates."""

    attrs: dict[str, Any] = field(default_factory=dict)


@dataclass
class SourceFile:
    relpath: str
    sha256: str
    tree: ast.Module
    module_values: dict[str, Any]

    def function(self, qualname: str) -> ast.FunctionDef:
        cls_name, _, func_name = qualname.rpartition(".")
        for node in self.tree.body:
            if cls_name and isinstance(node, ast.ClassDef) and node.name == cls_name:
                for item in node.body:
                    if isinstance(item, ast.FunctionDef) and item.name == func_name:
                        return item
            if not cls_name and isinstance(node, ast.FunctionDef) and node.name == func_name:
                return node
        raise ReferenceSourceError(f"{self.relpath} has no function {qualname}")

    def has_class(self, name: str) -> bool:
        return any(isinstance(n, ast.ClassDef) and n.name == name for n in self.tree.body)


class Clone:
    """A local clone: files are read and hashed once; every file read is recorded in ``used``."""

    def __init__(self, root: Path) -> None:
        if not root.is_dir():
            raise ReferenceSourceError(
                f"reference_repo {str(root)!r} is not a directory; give the root of a local clone of {REPO}"
            )
        self.root = root.resolve()
        self.files: dict[str, SourceFile] = {}

    def file(self, relpath: str) -> SourceFile:
        if relpath in self.files:
            return self.files[relpath]
        path = (self.root / relpath).resolve()
        if self.root not in path.parents:
            raise ReferenceSourceError(f"{relpath!r} lies outside the clone")
        if not path.is_file():
            raise ReferenceSourceError(
                f"reference_repo {str(self.root)!r} has no {relpath}; give the root of a clone of {REPO}"
            )
        data = path.read_bytes()
        if len(data) > MAX_FILE_BYTES:
            raise ReferenceSourceError(f"{relpath} is {len(data)} bytes, more than a source file of the reference")
        try:
            tree = ast.parse(data.decode("utf-8"), filename=relpath)
        except (SyntaxError, UnicodeDecodeError) as exc:
            raise ReferenceSourceError(
                f"{relpath} in the clone is not readable Python ({exc.__class__.__name__})"
            ) from None
        source = SourceFile(relpath, hashlib.sha256(data).hexdigest(), tree, {})
        interp = Interpreter(self, source, {})
        for node in tree.body:  # module constants such as PRIOR / NO_PRIOR
            if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
                value = interp.expr(node.value)
                if isinstance(value, str):
                    source.module_values[node.targets[0].id] = value
        self.files[relpath] = source
        return source

    def render(
        self,
        relpath: str,
        qualname: str,
        args: dict[str, Any],
        *,
        self_ns: Namespace | None = None,
        methods: dict[str, tuple[str, str]] | None = None,
        pinned: dict[str, Any] | None = None,
        inputs: dict[str, Any] | None = None,
        result: str | None = None,
    ) -> str:
        """The text a reference function builds: its return value (first element of a tuple), or the final
        value of local ``result``. ``methods`` maps ``self.x.name`` call paths to (file, qualname).
        ``pinned`` locals keep their value throughout; ``inputs`` are locals the function would have computed
        from data, kept until the function assigns them a text."""
        source = self.file(relpath)
        func = source.function(qualname)
        interp = Interpreter(self, source, methods or {}, pinned or {}, inputs or {})
        value = interp.call(func, args, self_ns, result=result)
        if not isinstance(value, str):
            what = f"local {result!r}" if result else "its return value"
            raise ReferenceSourceError(f"cannot read {what} of {relpath}:{qualname} from its source (got {value!r})")
        return value

    def hashes(self) -> dict[str, str]:
        return {k: v.sha256 for k, v in sorted(self.files.items())}


class Interpreter:
    """Evaluates the string-building subset of one function body."""

    def __init__(
        self,
        clone: Clone,
        source: SourceFile,
        methods: dict[str, tuple[str, str]],
        pinned: dict[str, Any] | None = None,
        inputs: dict[str, Any] | None = None,
    ) -> None:
        self.clone, self.source, self.methods = clone, source, methods
        self.pinned = pinned or {}
        self.inputs = inputs or {}
        self.locals: dict[str, Any] = {}
        self.self_ns: Namespace | None = None

    def where(self, node: ast.AST) -> str:
        return f"{self.source.relpath}:{getattr(node, 'lineno', '?')}"

    # -- statements ------------------------------------------------------------------------------------
    def call(self, func: ast.FunctionDef, args: dict[str, Any], self_ns: Namespace | None, *, result: str | None):
        self.self_ns = self_ns
        self.locals = {}
        params = func.args.args
        defaults = func.args.defaults
        for param, default in zip(params[len(params) - len(defaults) :], defaults, strict=True):
            self.locals[param.arg] = self.expr(default)
        for param in params:
            if param.arg in args:
                self.locals[param.arg] = args[param.arg]
        self.locals.update(self.inputs)
        self.locals.update(self.pinned)
        try:
            self.block(func.body)
        except _Return as ret:
            if result is None:
                return ret.value
        return self.locals.get(result, UNKNOWN) if result else UNKNOWN

    def block(self, body: list[ast.stmt]) -> None:
        for stmt in body:
            self.stmt(stmt)

    def assign(self, name: str, value: Any) -> None:
        if name in self.pinned or (value is UNKNOWN and name in self.inputs):
            return
        if isinstance(value, str) and len(value) > MAX_TEXT_CHARS:
            raise ReferenceSourceError("a text in the clone grows beyond any prompt's size")
        self.locals[name] = value

    def stmt(self, stmt: ast.stmt) -> None:
        if isinstance(stmt, ast.Assign):
            value = self.expr(stmt.value)
            for target in stmt.targets:
                if isinstance(target, ast.Name):
                    self.assign(target.id, value)
                elif isinstance(target, ast.Tuple):
                    for elt in target.elts:
                        if isinstance(elt, ast.Name):
                            self.assign(elt.id, UNKNOWN)
        elif isinstance(stmt, ast.AugAssign) and isinstance(stmt.target, ast.Name):
            left = self.locals.get(stmt.target.id, UNKNOWN)
            right = self.expr(stmt.value)
            value = self.binop(stmt.op, left, right) if isinstance(stmt.op, ast.Add) else UNKNOWN
            self.assign(stmt.target.id, value)
        elif isinstance(stmt, ast.If):
            test = self.expr(stmt.test)
            if test is UNKNOWN:
                return  # data-dependent branches (sampling eval points) build no text
            self.block(stmt.body if test else stmt.orelse)
        elif isinstance(stmt, ast.For):
            for name in ast.walk(stmt.target):
                if isinstance(name, ast.Name):
                    self.assign(name.id, UNKNOWN)
            self.block(stmt.body)  # once: loops here drive experiments, not text
        elif isinstance(stmt, ast.Return):
            value = stmt.value
            if isinstance(value, ast.Tuple) and value.elts:
                value = value.elts[0]
            raise _Return(UNKNOWN if value is None else self.expr(value))
        elif isinstance(stmt, ast.Raise):
            raise ReferenceSourceError(f"the reference refuses this condition ({self.where(stmt)})")
        # everything else (expressions, while, try, with, assert, import, break) builds no text

    # -- expressions -----------------------------------------------------------------------------------
    def expr(self, node: ast.expr) -> Any:
        if isinstance(node, ast.Constant):
            return node.value
        if isinstance(node, ast.JoinedStr):
            parts = [self.expr(v) for v in node.values]
            if any(p is UNKNOWN for p in parts):
                return UNKNOWN
            return "".join(str(p) for p in parts)
        if isinstance(node, ast.FormattedValue):
            value = self.expr(node.value)
            if value is UNKNOWN or isinstance(value, Namespace):
                return UNKNOWN
            if node.conversion == ord("r"):
                value = repr(value)
            elif node.conversion in (ord("s"), ord("a")):
                value = str(value)
            spec = self.expr(node.format_spec) if node.format_spec is not None else ""
            if spec is UNKNOWN:
                return UNKNOWN
            try:
                return format(value, spec)
            except (TypeError, ValueError):
                return UNKNOWN
        if isinstance(node, ast.Name):
            if node.id in self.locals:
                return self.locals[node.id]
            if node.id == "self" and self.self_ns is not None:
                return self.self_ns
            if node.id in self.source.module_values:
                return self.source.module_values[node.id]
            if node.id in ("True", "False", "None"):
                return {"True": True, "False": False, "None": None}[node.id]
            return UNKNOWN
        if isinstance(node, ast.Attribute):
            base = self.expr(node.value)
            if isinstance(base, Namespace) and not node.attr.startswith("_"):
                return base.attrs.get(node.attr, UNKNOWN)
            return UNKNOWN
        if isinstance(node, ast.BinOp):
            return self.binop(node.op, self.expr(node.left), self.expr(node.right))
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            value = self.expr(node.operand)
            return UNKNOWN if value is UNKNOWN else not value
        if isinstance(node, ast.BoolOp):
            return self.boolop(node)
        if isinstance(node, ast.Compare):
            return self.compare(node)
        if isinstance(node, ast.Subscript):
            return self.subscript(node)
        if isinstance(node, ast.Call):
            return self.callexpr(node)
        if isinstance(node, (ast.List, ast.Tuple)):
            items = [self.expr(e) for e in node.elts]
            return UNKNOWN if any(i is UNKNOWN for i in items) else items
        if isinstance(node, ast.ListComp):
            return self.listcomp(node)
        return UNKNOWN

    def binop(self, op: ast.operator, left: Any, right: Any) -> Any:
        if left is UNKNOWN or right is UNKNOWN:
            return UNKNOWN
        plain = (str, int, float)
        if not (isinstance(left, plain) and isinstance(right, plain)) or isinstance(left, bool):
            return UNKNOWN
        try:
            if isinstance(op, ast.Add):
                return left + right  # type: ignore[operator]
            if isinstance(op, ast.Sub):
                return left - right  # type: ignore[operator]
        except TypeError:
            return UNKNOWN
        return UNKNOWN

    def boolop(self, node: ast.BoolOp) -> Any:
        is_and = isinstance(node.op, ast.And)
        unknown = False
        for value_node in node.values:
            value = self.expr(value_node)
            if value is UNKNOWN:
                unknown = True
                continue
            if is_and and not value:
                return False
            if not is_and and value:
                return True
        return UNKNOWN if unknown else is_and

    def compare(self, node: ast.Compare) -> Any:
        left = self.expr(node.left)
        for op, right_node in zip(node.ops, node.comparators, strict=True):
            right = self.expr(right_node)
            if left is UNKNOWN or right is UNKNOWN:
                return UNKNOWN
            try:
                ok = {
                    ast.Is: lambda a, b: a is b,
                    ast.IsNot: lambda a, b: a is not b,
                    ast.Eq: lambda a, b: a == b,
                    ast.NotEq: lambda a, b: a != b,
                    ast.In: lambda a, b: a in b,
                    ast.NotIn: lambda a, b: a not in b,
                    ast.Lt: lambda a, b: a < b,
                    ast.Gt: lambda a, b: a > b,
                    ast.LtE: lambda a, b: a <= b,
                    ast.GtE: lambda a, b: a >= b,
                }[type(op)](left, right)
            except (KeyError, TypeError):
                return UNKNOWN
            if not isinstance(ok, bool):
                return UNKNOWN
            if not ok:
                return False
            left = right
        return True

    def subscript(self, node: ast.Subscript) -> Any:
        base = self.expr(node.value)
        index = self.expr(node.slice) if not isinstance(node.slice, ast.Slice) else UNKNOWN
        if base is UNKNOWN or index is UNKNOWN or not isinstance(index, int) or isinstance(index, bool):
            return UNKNOWN
        try:
            return base[index]
        except (IndexError, KeyError, TypeError):
            return UNKNOWN

    def callexpr(self, node: ast.Call) -> Any:
        func = node.func
        if node.keywords and any(k.arg is None for k in node.keywords):
            return UNKNOWN
        args = [self.expr(a) for a in node.args]
        kwargs = {k.arg: self.expr(k.value) for k in node.keywords if k.arg is not None}
        if isinstance(func, ast.Attribute) and func.attr == "join" and isinstance(func.value, ast.Constant):
            sep, items = func.value.value, args[0] if len(args) == 1 else UNKNOWN
            if isinstance(sep, str) and isinstance(items, list) and all(isinstance(i, str) for i in items):
                return sep.join(items)
            return UNKNOWN
        if isinstance(func, ast.Name) and func.id == "range" and len(args) == 1 and isinstance(args[0], int):
            return list(range(min(args[0], MAX_RANGE)))
        path = _dotted(func)
        if path is not None and path in self.methods:
            relpath, qualname = self.methods[path]
            target = self.clone.file(relpath)
            callee = target.function(qualname)
            names = [a.arg for a in callee.args.args[1:]]  # skip self
            bound = dict(zip(names, args, strict=False)) | kwargs
            owner = self.self_ns.attrs.get("env") if path.startswith("self.env.") and self.self_ns else self.self_ns
            inner = Interpreter(self.clone, target, self.methods, self.pinned)
            return inner.call(callee, bound, owner if isinstance(owner, Namespace) else None, result=None)
        return UNKNOWN

    def listcomp(self, node: ast.ListComp) -> Any:
        if len(node.generators) != 1 or node.generators[0].ifs or not isinstance(node.generators[0].target, ast.Name):
            return UNKNOWN
        gen = node.generators[0]
        items = self.expr(gen.iter)
        if not isinstance(items, list):
            return UNKNOWN
        name = gen.target.id  # type: ignore[attr-defined]
        saved = self.locals.get(name, UNKNOWN)
        out = []
        for item in items[:MAX_RANGE]:
            self.locals[name] = item
            value = self.expr(node.elt)
            if value is UNKNOWN:
                out = UNKNOWN
                break
            out.append(value)
        self.locals[name] = saved
        return out


def _dotted(node: ast.expr) -> str | None:
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
        return ".".join(reversed(parts))
    return None
