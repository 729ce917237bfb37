"""``emergebench score RUN_ID``: re-score a stored run's outputs as a new, linked run."""

from __future__ import annotations

import click

from .errors import UsageError


@click.command("score")
@click.argument("run_id")
@click.option("--grader", default=None, help="Grader name (default: the source run's grader).")
@click.option("-A", "grader_args", multiple=True, help="Grader option key=value (see `emergebench graders`).")
@click.option("--grader-model", default=None, help="Judge model id (default: the source run's judge).")
@click.option("-J", "grader_model_args", multiple=True, help="Judge model option key=value.")
@click.option(
    "--max-concurrency",
    "-c",
    default=8,
    show_default=True,
    type=click.IntRange(1, 4096),
    help="Samples scored at once.",
)
@click.option("--no-cache", is_flag=True, help="Do not reuse cached judge calls (new answers are still cached).")
def score_command(
    run_id: str,
    grader: str | None,
    grader_args: tuple[str, ...],
    grader_model: str | None,
    grader_model_args: tuple[str, ...],
    max_concurrency: int,
    no_cache: bool,
) -> None:
    """Re-score the stored outputs of run RUN_ID without calling the model under test, and record
    the scores as a new run linked to RUN_ID (its spec's source_run; the registry's source_run_id).
    Judge calls go through the cache: with nothing changed, re-scoring is free and identical.

    \b
    Examples:
        emergebench score 3f2a9c0d1e2b4a5c-20250101T120000-ab12
        emergebench score RUN_ID --grader regex -A pattern='answer: (\\w+)'
        emergebench score RUN_ID --grader-model openai/gpt-4o
    """
    # imported here: `emergebench --help` and the listings never load the records or the runner (cli.py)
    from .cli import parse_pairs, print_summary
    from .journal import read_spec
    from .records import RunResult
    from .rescore import Rescorer, find_run, rescore_spec
    from .runner import RunOptions, run_coroutine, split_secrets

    source_dir = find_run(run_id)
    source = read_spec(source_dir)
    if source is None:
        raise UsageError(f"run {run_id!r} has an unreadable spec.json in {source_dir}; it cannot be re-scored")
    judge_args = parse_pairs(grader_model_args, "-J")
    options = RunOptions(max_concurrency=max_concurrency, use_cache=not no_cache, progress=False)
    judge = grader_model or source.grader_model
    if judge and judge_args:
        public, secret = split_secrets(judge, judge_args)
        options.secrets.setdefault(judge, {}).update(secret)
        judge_args = public
    spec = rescore_spec(
        source,
        run_id,
        grader=grader,
        grader_args=parse_pairs(grader_args, "-A"),
        grader_model=grader_model,
        grader_model_args=judge_args,
    )
    rescorer = Rescorer(source_dir, spec, options)
    try:
        result: RunResult = run_coroutine(rescorer.run())
    except KeyboardInterrupt:
        raise SystemExit(130) from None
    print_summary(result, source_dir.parent / result.run_id)
    click.echo(f"re-scored from run {run_id}")
