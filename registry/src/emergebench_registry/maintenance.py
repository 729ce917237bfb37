"""``emergebench registry ...``: looking after the store file itself."""

from __future__ import annotations

import click

from .commands import guarded, registry_option
from .store import Store


@click.group("registry")
def registry_group() -> None:
    """Look after the registry file (rebuild it from the run folders and kept shards)."""


@registry_group.command("rebuild")
@registry_option
@guarded
def rebuild_command(registry_path: str | None) -> None:
    """Recreate the registry from the run folders plus the pulled and imported shards kept beside it.

    Use it when the registry file is damaged (a crash, a full disk, a bad copy). The old file is
    kept aside as REGISTRY.replaced-<time>; nothing in the run folders changes. Runs pulled before
    shards were kept come back with the next `emergebench sync pull`.
    """
    from .rebuild import rebuild

    store = Store(registry_path)
    report = rebuild(store)
    skipped = [r for r in report.local if r.status.startswith("skipped")]
    for item in skipped:
        click.echo(f"{item.run_id}: {item.status}", err=True)
    for label, problem in sorted(report.rejected.items()):
        click.echo(f"Rejected {label}: {problem}", err=True)
    click.echo(
        f"Rebuilt {store.path}: {len(report.local) - len(skipped)} local run(s) from run folders, "
        f"{len(report.pulled)} pulled or imported run(s) from kept shards; "
        f"{len(skipped) + len(report.rejected)} problem(s)."
    )
    if report.kept_aside:
        click.echo(f"The previous file is kept as {report.kept_aside} (delete it once you are satisfied).")
    if skipped or report.rejected:
        raise click.exceptions.Exit(1)
