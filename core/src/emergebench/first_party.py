"""Which first-party distribution brings a model prefix, task or command, so that a user who has only
the core installed is told what to install instead of just "unknown"."""

from __future__ import annotations

# name -> (distribution, folder in a checkout of emergebench)
_PLUGINS: dict[str, tuple[str, str]] = {
    "llamacpp": ("emergebench-llamacpp", "plugins/llamacpp"),
    "openai": ("emergebench-openai", "plugins/openai"),
    "skill-mix": ("emergebench-skill-mix", "plugins/skill-mix"),
    "mars": ("emergebench-mars", "plugins/mars"),
    "boxinggym": ("emergebench-boxinggym", "plugins/boxinggym"),
    "donor-game": ("emergebench-donor-game", "plugins/donor-game"),
    "registry": ("emergebench-registry", "registry"),
}

# Commands that a first-party plugin adds (the registry's), by command name.
_COMMANDS: dict[str, str] = {
    name: "registry"
    for name in (
        "sql",
        "leaderboard",
        "runs",
        "compare",
        "ingest",
        "export",
        "import",
        "import-results",
        "sync",
        "registry",
    )
}


def _install_hint(plugin: str) -> str:
    distribution, folder = _PLUGINS[plugin]
    return (
        f"it comes with the plugin {distribution!r}, which is not installed. Install it from a checkout of "
        f"emergebench with `emergebench install ./{folder}` (or `pip install ./{folder}`), or install a "
        f"wheel built from that folder with `emergebench install PATH.whl`."
    )


_TASK_PLUGINS = ("skill-mix", "mars", "boxinggym", "donor-game")
_MODEL_PREFIXES = ("llamacpp", "openai", "boxinggym", "mars", "donor-game")  # providers and baselines


def hint_for_model_prefix(prefix: str) -> str | None:
    """The install hint for a model id's provider prefix, when a first-party plugin provides it."""
    return _install_hint(prefix) if prefix in _MODEL_PREFIXES else None


def hint_for_task(name: str) -> str | None:
    """The install hint for a task name (``mars/event`` comes with ``mars``)."""
    plugin = name.split("/", 1)[0]
    return _install_hint(plugin) if plugin in _TASK_PLUGINS else None


def hint_for_command(name: str) -> str | None:
    """The install hint for a CLI command that a first-party plugin adds."""
    plugin = _COMMANDS.get(name)
    return None if plugin is None else _install_hint(plugin)
