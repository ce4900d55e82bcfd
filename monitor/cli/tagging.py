"""``monitor classify``, ``monitor evaluate`` and ``monitor train``: the tagger at the command line.

None of them needs a config file. spaCy is imported inside the commands only, so
``monitor --help`` stays instant.
"""

from __future__ import annotations

import json
import sys
from collections import deque
from pathlib import Path
from typing import IO, Any, Iterator

import click

from monitor.cli._base import Context, handle_errors, main, pass_context

MODEL_HELP = "Relevance model: a directory or relevance.json from `monitor train`, or 'prior' for the hand-set weights. Default: the model shipped in the package."
THRESHOLD_HELP = "Score (0..1) from which an item counts as relevant. Default: the model's own (0.5)."


def _read_items(stream: IO[str], failures: list[int]) -> Iterator[tuple[Any, str, str]]:
    """(id, title, text) per good line; bad lines are reported on stderr and skipped."""
    for number, line in enumerate(stream, 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            if not isinstance(row, dict):
                raise ValueError("not a JSON object")
            title = row.get("title") or ""
            text = row.get("text") or ""
            if not isinstance(title, str) or not isinstance(text, str):
                raise ValueError("title and text must be strings")
            if not title and not text:
                raise ValueError("needs a title or a text")
        except ValueError as error:  # json.JSONDecodeError is a ValueError
            click.echo(f"error: line {number}: {error}", err=True)
            failures.append(number)
            continue
        yield row.get("id"), title, text


@main.command()
@click.option("--model", "model_path", default=None, metavar="PATH", help=MODEL_HELP)
@click.option("--threshold", type=click.FloatRange(0, 1), default=None, help=THRESHOLD_HELP)
@click.option(
    "--batch-size", type=click.IntRange(1), default=64, show_default=True, help="Items tagged per spaCy batch."
)
@handle_errors
def classify(model_path: str | None, threshold: float | None, batch_size: int) -> None:
    """Tag items read as JSON Lines on stdin; write JSON Lines on stdout.

    Each input line is an object with "id", "title" and "text" (other fields are
    ignored). Each output line has "id", "relevant", "score", "topics" (main topic
    first), "platforms", "legislation", "organisations", "statistics" (figures
    quoted in the item, relevant or not: "value", "number", "unit", "of" - what a percentage or sum is of,
    "cases" in "37% of cases" - and "sentence"), "why" and "version".

    A malformed line is reported on stderr with its line number and skipped; the
    other lines are still tagged, and the exit status is 1 if any line failed.

    \b
    Example:
      echo '{"id": 1, "title": "", "text": "..."}' | monitor classify
    """
    from monitor.tagging import load_tagger, tags_to_dict

    tagger = load_tagger(model_path, threshold)
    failures: list[int] = []
    items = _read_items(sys.stdin, failures)
    ids: deque[Any] = deque()  # ids of items read but not yet written (at most one batch)

    def pairs() -> Iterator[tuple[str, str]]:
        for ident, title, text in items:
            ids.append(ident)
            yield title, text

    out = sys.stdout
    for tags in tagger.tag_many(pairs(), batch_size=batch_size):
        record = {"id": ids.popleft(), **tags_to_dict(tags)}
        out.write(json.dumps(record, ensure_ascii=False) + "\n")
    out.flush()
    if failures:
        click.echo(f"error: {len(failures)} line(s) could not be read: {', '.join(map(str, failures[:20]))}", err=True)
        sys.exit(1)


@main.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True, help="Report format."
)
@click.option("--model", "model_path", default=None, metavar="PATH", help=MODEL_HELP)
@click.option("--threshold", type=click.FloatRange(0, 1), default=None, help=THRESHOLD_HELP)
@click.option(
    "--cv",
    type=click.IntRange(0),
    default=0,
    help='Cross-validate: re-train the weights on K-1 folds and score the K-th (items sharing a "group" field stay together). 0 = score the model as is.',
)
@click.option("--seed", type=int, default=0, show_default=True, help="Seed for the fold assignment of --cv.")
@click.option(
    "--builtin/--no-builtin",
    default=True,
    show_default=True,
    help="With --cv, also train on the examples written by the team (shipped in the package).",
)
@handle_errors
def evaluate(
    file: Path, fmt: str, model_path: str | None, threshold: float | None, cv: int, seed: int, builtin: bool
) -> None:
    """Score the tagger on a labelled JSON Lines FILE, beside a keyword baseline.

    FILE uses the shared labelled format: "id", "title", "text", "relevant",
    "platforms", "legislation", "topic" (and optionally "group"). Prints
    precision, recall and F1 of relevance, micro-F1 of platforms and of
    legislation, and the confusion by gold topic (predicted main topic for
    relevant topics, predicted relevant/not for negatives), for the tagger and
    for the plain keyword filter (groom*, platform or law names => relevant).
    """
    from monitor.tagging.evaluate import evaluate as run
    from monitor.tagging.evaluate import format_text
    from monitor.tagging.labelled import read_examples

    report = run(read_examples(file), model_path, threshold, cv, seed, builtin)
    if fmt == "json":
        click.echo(json.dumps(report, indent=2))
    else:
        click.echo(format_text(report))


@main.command()
@click.option(
    "--data",
    "data",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    multiple=True,
    required=True,
    help="Labelled JSON Lines file (shared format); repeat for several.",
)
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Directory for relevance.json. Default: the package's model directory (monitor/tagging/model).",
)
@click.option(
    "--seed",
    type=int,
    default=0,
    show_default=True,
    help="Recorded in the model's metadata; the fit itself is deterministic.",
)
@click.option(
    "--builtin/--no-builtin",
    default=True,
    show_default=True,
    help="Also train on the examples written by the team (shipped in the package).",
)
@handle_errors
def train(data: tuple[Path, ...], out: Path | None, seed: int, builtin: bool) -> None:
    """Fit the relevance weights on labelled data and write relevance.json.

    The model is a logistic regression over the tagger's rule features, started
    from and pulled towards the hand-set weights in patterns/prior.toml. The same
    data and patterns always give the same file. Only weights and a hash of the
    data are written, never the texts.
    """
    from monitor.tagging.train import train as run

    target = run(list(data), out, seed, builtin)
    click.echo(f"wrote {target}")


@main.command()
@click.option("--all", "all_items", is_flag=True,
              help="Re-tag every item, not only those tagged by an older tagger version.")
@click.option("--batch", type=click.IntRange(1, 100_000), default=500, show_default=True,
              help="Items per batch (each batch is stored in its own transaction).")
@pass_context
@handle_errors
def retag(ctx: Context, all_items: bool, batch: int) -> None:
    """Re-tag stored items after the tagger changed.

    Items whose tags are missing or were written by an older tagger version
    (patterns, model or threshold changed) are tagged again, in batches, with a
    progress bar. Interrupting it keeps every finished batch; running it again
    continues with the rest (also with --all).
    """
    from monitor.app import open_monitor

    with open_monitor(ctx.config) as monitor:
        version = monitor.tagger.version
        bar = click.progressbar(length=1, label=f"Re-tagging with tagger {version}", file=sys.stderr,
                                show_pos=True)
        with bar:
            def progress(done: int, total: int) -> None:
                bar.length = max(total, 1)
                bar.update(done - bar.pos)

            result = monitor.retag(all_items=all_items, batch=batch, on_progress=progress)
        click.echo(f"{result.tagged} items re-tagged; every stored item now carries tagger version {result.version}")
