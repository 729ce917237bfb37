"""Plugin manager: lazy, idempotent entry-point loading with one guard per plugin."""

from __future__ import annotations

import difflib
import functools
import re
import sys
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from typing import Any

import pluggy

from . import first_party, hookspecs
from .errors import UsageError
from .grader import Grader
from .model import ModelProvider
from .plugin_index import allowed_plugins
from .task import Task

GROUP = "emergebench"
NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_.-]*(/[a-z0-9][a-z0-9_.-]*)*$")
PREFIX_RE = re.compile(r"^[a-z0-9][a-z0-9_.-]*$")
DEFAULT_PLUGINS = (
    "emergebench.builtin.scripted",
    "emergebench.builtin.graders",
    "emergebench.builtin.scaffold",
    "emergebench.builtin.sweep",
)


@dataclass
class PluginProblem:
    plugin: str
    distribution: str | None
    error: str

    def __str__(self) -> str:
        dist = f" (distribution {self.distribution})" if self.distribution else ""
        return f"plugin {self.plugin!r}{dist}: {self.error}"


@dataclass
class PluginInfo:
    name: str
    distribution: str | None = None
    version: str | None = None
    builtin: bool = False


class PluginConflictError(UsageError):
    """Two plugins registered the same name."""


@dataclass(frozen=True)
class PerPlugin:
    """A hook argument that differs per implementing plugin: ``bind(plugin)`` makes that plugin's copy
    (the ``register`` callback records who registered each name and enforces its namespace)."""

    make: Callable[[str], Any]
    done: Callable[[str], None] | None = None  # called once that plugin's implementation has run

    def bind(self, plugin: str) -> Any:
        return self.make(plugin)


@dataclass
class Catalog:
    """Everything the plugins registered, keyed by validated name."""

    tasks: dict[str, type[Task[Any]]] = field(default_factory=dict)
    models: dict[str, ModelProvider] = field(default_factory=dict)
    graders: dict[str, type[Grader[Any]]] = field(default_factory=dict)
    conflicts: dict[tuple[str, str], str] = field(default_factory=dict)

    def task(self, name: str) -> type[Task[Any]]:
        self._check_conflict("task", name)
        found: type[Task[Any]] = _lookup(self.tasks, name, "task", "emergebench tasks", first_party.hint_for_task(name))
        return found

    def grader(self, name: str) -> type[Grader[Any]]:
        self._check_conflict("grader", name)
        found: type[Grader[Any]] = _lookup(self.graders, name, "grader", "emergebench graders")
        return found

    def _check_conflict(self, kind: str, name: str) -> None:
        if (kind, name) in self.conflicts:
            raise PluginConflictError(self.conflicts[(kind, name)])

    def provider_for(self, model_id: str) -> tuple[ModelProvider, str]:
        prefix, _, name = model_id.partition("/")
        if not name:
            raise UsageError(
                f"model id {model_id!r} has no provider prefix: write it as PROVIDER/NAME, e.g. "
                "'llamacpp/smollm2-135m' or 'openai/gpt-4o-mini' (see `emergebench models`)"
            )
        self._check_conflict("model", prefix)
        provider = _lookup(
            self.models, prefix, "model provider", "emergebench models", first_party.hint_for_model_prefix(prefix)
        )
        if not provider.open_names and name not in provider.known:
            close = difflib.get_close_matches(name, provider.known, n=3)
            hint = f" Did you mean: {', '.join(f'{prefix}/{c}' for c in close)}?" if close else ""
            raise UsageError(
                f"unknown model {model_id!r}: provider {prefix!r} offers "
                f"{', '.join(provider.known) or 'no names'}.{hint}"
            )
        return provider, name


def _lookup(table: dict[str, Any], name: str, kind: str, command: str, install_hint: str | None = None) -> Any:
    if name in table:
        return table[name]
    if install_hint is not None:
        raise UsageError(f"unknown {kind} {name!r}: {install_hint}")
    close = difflib.get_close_matches(name, list(table), n=3, cutoff=0.5)
    hint = f" Did you mean: {', '.join(close)}?" if close else ""
    raise UsageError(f"unknown {kind} {name!r}.{hint} Run `{command}` to list them all.")


class PluginManager:
    """Wraps pluggy: loads entry points once, guards each plugin, builds the catalog once."""

    def __init__(self) -> None:
        self.pm = pluggy.PluginManager(GROUP)
        self.pm.add_hookspecs(hookspecs)
        self.problems: list[PluginProblem] = []
        self.infos: dict[str, PluginInfo] = {}
        self._loaded = False
        self._catalog: Catalog | None = None
        self._reported = False
        self._scope: set[str] | None = None  # entry points this process needs (None: all)
        self.in_process = False  # a plugin was registered by code, not by an entry point

    def restrict(self, names: set[str]) -> None:
        """Load only these entry points (plus the built-ins) in this process: a run needs a few plugins,
        and importing every installed one costs start-up time and memory. No effect once loaded."""
        if not self._loaded:
            self._scope = set(names)

    @property
    def hook(self) -> Any:
        self.load()
        return self.pm.hook

    def load(self) -> None:
        if self._loaded:
            return
        self._loaded = True
        for module_name in DEFAULT_PLUGINS:
            module = __import__(module_name, fromlist=["_"])
            self._register_plugin(module, module_name)
            self.infos[module_name] = PluginInfo(module_name, "emergebench-core", _core_version(), True)
        allow = allowed_plugins()
        seen: set[str] = set()
        for ep in entry_points(group=GROUP):
            if ep.name in seen or (allow is not None and ep.name not in allow):
                continue
            if self._scope is not None and ep.name not in self._scope:
                continue
            seen.add(ep.name)
            dist = ep.dist.name if ep.dist else None
            try:
                module = ep.load()
                self._register_plugin(module, ep.name)
            except Exception as exc:  # a broken plugin must never take the CLI down
                self.problems.append(PluginProblem(ep.name, dist, _describe(exc)))
                continue
            self.infos[ep.name] = PluginInfo(ep.name, dist, ep.dist.version if ep.dist else None)

    def register_module(self, module: Any, name: str) -> None:
        """Register an in-process plugin (tests, notebooks); resets the catalog."""
        self.load()
        self._register_plugin(module, name)
        self.infos[name] = PluginInfo(name)
        self._catalog = None
        self.in_process = True

    def unregister(self, name: str) -> None:
        self.pm.unregister(name=name)
        self.infos.pop(name, None)
        self._catalog = None

    def call_guarded(self, hook_name: str, **kwargs: Any) -> list[Any]:
        """Call a hook through pluggy's own calling (so ``tryfirst``/``trylast`` order and wrappers work);
        each implementation runs inside its plugin's guard, so a failing one is reported, never raised."""
        self.load()
        results: list[Any] = getattr(self.pm.hook, hook_name)(**kwargs)
        return results

    def _register_plugin(self, module: Any, name: str) -> None:
        """Register with pluggy, then put each of the plugin's hook implementations inside a guard."""
        self.pm.register(module, name=name)
        for caller in self.pm.get_hookcallers(module) or []:
            for impl in caller.get_hookimpls():
                if impl.plugin is module and not (impl.hookwrapper or impl.wrapper):
                    # pluggy marks HookImpl.function final for users; the guard wraps it in place on purpose
                    setattr(impl, "function", self._guard(name, caller.name, impl.function, tuple(impl.argnames)))  # noqa: B010

    def _guard(self, plugin: str, hook_name: str, function: Any, argnames: tuple[str, ...]) -> Any:
        """``function`` as pluggy calls it (positional, in ``argnames`` order), with per-plugin arguments
        bound (``PerPlugin``: the register callback knows who registers) and any exception reported."""

        @functools.wraps(function)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            named = {**dict(zip(argnames, args, strict=False)), **kwargs}
            bound = {k: v.bind(plugin) if isinstance(v, PerPlugin) else v for k, v in named.items()}
            try:
                return function(**bound)
            except PluginConflictError as exc:
                self._problem(plugin, str(exc))
            except Exception as exc:
                self._problem(plugin, f"hook {hook_name} raised {_describe(exc)}")
            finally:
                for value in named.values():
                    if isinstance(value, PerPlugin) and value.done is not None:
                        value.done(plugin)
            return None

        return guarded

    @property
    def catalog(self) -> Catalog:
        if self._catalog is None:
            self._catalog = self._build_catalog()
        return self._catalog

    def _build_catalog(self) -> Catalog:
        self.load()
        catalog = Catalog()
        owners: dict[tuple[str, str], str] = {}

        def make_register(kind: str, table: dict[str, Any], plugin: str) -> Callable[..., None]:
            def register(item: Any, *_: Any, **__: Any) -> None:
                name = _item_name(kind, item)
                _validate_name(kind, name, plugin)
                key = (kind, name)
                if key in owners and owners[key] != plugin:
                    msg = (
                        f"{kind} name {name!r} is registered by two plugins: {owners[key]!r} "
                        f"({self._dist(owners[key])}) and {plugin!r} ({self._dist(plugin)}). "
                        "Uninstall one of them, or restrict loading with EMERGEBENCH_LOAD_PLUGINS."
                    )
                    catalog.conflicts[key] = msg
                    raise PluginConflictError(msg)
                owners[key] = plugin
                item.plugin = plugin
                table[name] = item

            return register

        for kind, hook_name, table in (
            ("task", "register_tasks", catalog.tasks),
            ("model", "register_models", catalog.models),
            ("grader", "register_graders", catalog.graders),
        ):
            register = PerPlugin(functools.partial(make_register, kind, table))
            getattr(self.pm.hook, hook_name)(register=register)
        return catalog

    def _dist(self, plugin: str) -> str:
        info = self.infos.get(plugin)
        return f"distribution {info.distribution}" if info and info.distribution else "in-process"

    def _problem(self, plugin: str, error: str) -> None:
        info = self.infos.get(plugin)
        self.problems.append(PluginProblem(plugin, info.distribution if info else None, error))

    def report_problems(self, echo: Callable[[str], None]) -> None:
        """Print each plugin problem once per process."""
        if self._reported:
            return
        self._reported = True
        for problem in self.problems:
            echo(f"Warning: {problem}")

    def describe(self) -> dict[str, Any]:
        """What every loaded plugin offers, as plain data for the plugin index (see plugin_index)."""
        catalog = self.catalog
        plugins = {
            self.pm.get_name(plugin): {"hooks": sorted(h.name for h in self.pm.get_hookcallers(plugin) or [])}
            for plugin in self.pm.get_plugins()
        }
        return {
            "plugins": plugins,
            "tasks": {
                name: {
                    "plugin": cls.plugin,
                    "version": cls.version,
                    "main_metric": cls.main_metric,
                    "description": cls.description,
                }
                for name, cls in catalog.tasks.items()
            },
            "models": {
                prefix: {
                    "plugin": p.plugin,
                    "known": list(p.known),
                    "open_names": p.open_names,
                    "options_help": dict(p.options_help),
                    "description": p.description,
                }
                for prefix, p in catalog.models.items()
            },
            "graders": {
                name: {
                    "plugin": cls.plugin,
                    "needs_model": cls.needs_model,
                    "args": list(cls.Args.model_fields),
                    "description": cls.description,
                }
                for name, cls in catalog.graders.items()
            },
            "conflicts": sorted({name for _kind, name in catalog.conflicts}),
            "problems": [str(problem) for problem in self.problems],
        }

    def plugin_versions(self) -> dict[str, str]:
        self.load()
        return {(info.distribution or name): (info.version or "unknown") for name, info in self.infos.items()}


def _item_name(kind: str, item: Any) -> str:
    if kind == "model":
        if not isinstance(item, ModelProvider):
            raise TypeError(f"register_models expects ModelProvider(...), got {item!r}")
        return item.prefix
    base = Task if kind == "task" else Grader
    if not (isinstance(item, type) and issubclass(item, base)):
        raise TypeError(f"register_{kind}s expects a {base.__name__} subclass, got {item!r}")
    name = getattr(item, "name", None)
    if not isinstance(name, str):
        raise TypeError(f"{item.__name__} has no `name` class attribute")
    if kind == "task" and not isinstance(getattr(item, "version", None), str):
        raise TypeError(f"task {name!r} has no `version` class attribute (a string like '1.0')")
    return name


def _validate_name(kind: str, name: str, plugin: str) -> None:
    pattern = PREFIX_RE if kind == "model" else NAME_RE
    if not pattern.match(name):
        raise ValueError(
            f"invalid {kind} name {name!r}: use lower-case letters, digits, '-', '_', '.'"
            + ("" if kind == "model" else " and '/' between namespace parts")
        )
    namespace = name.split("/")[0]
    if "/" in name and namespace != plugin:  # first-party and built-in plugins included
        raise ValueError(
            f"{kind} name {name!r} is namespaced {namespace!r} but plugin {plugin!r} registered "
            f"it: a plugin may only use its own namespace ({plugin}/...)"
        )


def _describe(exc: BaseException) -> str:
    frame = traceback.extract_tb(exc.__traceback__)[-1:] if exc.__traceback__ else []
    where = f" at {frame[0].filename}:{frame[0].lineno}" if frame else ""
    return f"{type(exc).__name__}: {exc}{where}"


def _core_version() -> str:
    from . import __version__

    return __version__


_manager: PluginManager | None = None


def get_manager() -> PluginManager:
    global _manager
    if _manager is None:
        _manager = PluginManager()
    return _manager


def reset_manager() -> None:
    """Forget loaded plugins (tests that change EMERGEBENCH_LOAD_PLUGINS or install plugins)."""
    global _manager
    _manager = None


def echo_err(text: str) -> None:
    print(text, file=sys.stderr)
