"""Hooks go through pluggy's own calling: tryfirst/trylast order and wrappers work, while each
implementation still runs inside its plugin's guard (a failing one is reported, the rest run); the
plugin-namespace rule holds for every plugin, first-party included."""

from __future__ import annotations

from collections.abc import Generator
from pathlib import Path
from typing import Any

import pytest
from coretest_plugin import AddTask
from emergebench import hookimpl
from emergebench.plugins import PluginManager, _validate_name, get_manager
from emergebench.runner import build_spec, run_sync


def test_tryfirst_trylast_and_wrappers_are_honoured(manager: PluginManager, options: Any) -> None:
    order: list[str] = []

    class Last:
        @staticmethod
        @hookimpl(trylast=True)
        def on_run_finished(result: Any, run_dir: Path) -> None:
            order.append("last")

    class First:
        @staticmethod
        @hookimpl(tryfirst=True)
        def on_run_finished(result: Any, run_dir: Path) -> None:
            order.append("first")

    class Crasher:
        @staticmethod
        @hookimpl
        def on_run_finished(result: Any, run_dir: Path) -> None:
            order.append("crasher")
            raise RuntimeError("boom in the middle")

    class Wrapper:
        @staticmethod
        @hookimpl(wrapper=True)
        def on_run_finished(result: Any, run_dir: Path) -> Generator[None, Any, Any]:
            order.append("wrapper-before")
            outcome = yield
            order.append("wrapper-after")
            return outcome

    # registered in an order that differs from the calling order pluggy must impose
    for plugin, name in ((Last, "last"), (First, "first"), (Crasher, "crasher"), (Wrapper, "wrapper")):
        manager.register_module(plugin, name)
    run_sync(build_spec("core-test/add", "scripted/echo", task_args={"n": 1}, manager=manager), options, manager)
    assert order == ["wrapper-before", "first", "crasher", "last", "wrapper-after"]
    assert [p.plugin for p in manager.problems if "boom in the middle" in p.error] == ["crasher"]


def test_register_hooks_are_ordered_and_guarded_per_plugin(eb_home: Path) -> None:
    manager = PluginManager()
    seen: list[str] = []

    class Early(AddTask):
        name = "early/add"

    class EarlyPlugin:
        @staticmethod
        @hookimpl(tryfirst=True)
        def register_tasks(register: Any) -> None:
            seen.append("early")
            register(Early)

    class BrokenPlugin:
        @staticmethod
        @hookimpl
        def register_tasks(register: Any) -> None:
            seen.append("broken")
            raise ValueError("cannot register")

    manager.register_module(BrokenPlugin, "broken")
    manager.register_module(EarlyPlugin, "early")
    catalog = manager.catalog
    assert seen[0] == "early" and "broken" in seen
    assert catalog.tasks["early/add"].plugin == "early"  # the register callback knew who registered
    assert any(p.plugin == "broken" and "cannot register" in p.error for p in manager.problems)


@pytest.mark.parametrize("plugin", ["emergebench.builtin.graders", "mars", "someone"])
def test_namespace_rule_applies_to_every_plugin(plugin: str) -> None:
    with pytest.raises(ValueError, match="may only use its own namespace"):
        _validate_name("task", "other/task", plugin)


def test_first_party_names_follow_the_namespace_rule(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Every installed plugin's namespaced name starts with that plugin's own entry-point name."""
    monkeypatch.setenv("EMERGEBENCH_HOME", str(tmp_path))
    monkeypatch.delenv("EMERGEBENCH_LOAD_PLUGINS", raising=False)
    from emergebench.plugins import reset_manager

    reset_manager()
    catalog = get_manager().catalog
    named = {**catalog.tasks, **catalog.graders}
    assert any("/" in n for n in named)
    for name, item in named.items():
        if "/" in name:
            assert name.split("/")[0] == item.plugin, (name, item.plugin)
    assert not [p for p in get_manager().problems if "namespace" in p.error]
    reset_manager()
