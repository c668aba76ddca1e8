"""prag: Parametric RAG from the command line."""

from __future__ import annotations

import json
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Callable, Iterator, Optional

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

from prag.api import Prag, run_demo
from prag.config import RECIPES, Settings
from prag.errors import InputError, PragError
from prag.types import Mode

app = typer.Typer(add_completion=False, no_args_is_help=True, help=__doc__, pretty_exceptions_show_locals=False)
console = Console(stderr=True)
out = Console()


class _State:
    home: Optional[Path] = None
    collection: str = "default"
    model: str = "default"
    recipe: str = "default"

    def open(self) -> Prag:
        if self.recipe not in RECIPES:
            raise InputError(f"unknown recipe {self.recipe!r}; choose one of {', '.join(RECIPES)}")
        return Prag(self.home, self.collection, self.model, Settings(recipe=RECIPES[self.recipe]))


state = _State()


@app.callback()
def options(
    home: Annotated[Optional[Path], typer.Option(help="State folder (default: $PRAG_HOME or the user data dir).")] = None,
    collection: Annotated[str, typer.Option(help="Collection name.")] = "default",
    model: Annotated[str, typer.Option(help="default | qwen-coder-0.5b | path to a Hugging Face folder.")] = "default",
    recipe: Annotated[str, typer.Option(help=f"Encoding recipe: {' | '.join(RECIPES)}.")] = "default",
) -> None:
    """Parametric RAG: inject retrieved documents into the model's weights."""
    state.home, state.collection, state.model, state.recipe = home, collection, model, recipe


@app.command()
def add(files: Annotated[list[Path], typer.Argument(help="JSONL ({id?, title?, text} per line), .txt or .md files.")]) -> None:
    """Add documents to the collection (all or nothing per call)."""
    with _errors():
        report = state.open().add(files)
    for note in report.notes:
        console.print(f"[yellow]note:[/] {note}")
    out.print(f"added {len(report.added)} document(s); {len(report.unchanged)} already present")


@app.command()
def build() -> None:
    """Index, augment and encode every document not yet done (resumable)."""
    with _errors(), _progress() as progress:
        report = state.open().build(progress)
    out.print(f"{report.documents} documents: {report.augmented} newly augmented, {report.encoded} newly encoded")


@app.command()
def ask(
    question: Annotated[str, typer.Argument(help="The question.")],
    mode: Annotated[str, typer.Option(help="closed | rag | prag | combine")] = "prag",
    top_k: Annotated[int, typer.Option("--top-k", help="Documents to retrieve.")] = 3,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Answer a question: Retrieve, Update, Generate."""
    with _errors():
        answer = state.open().ask(question, mode, top_k)
    if as_json:
        out.print_json(json.dumps(answer.to_dict()))
    else:
        out.print(answer.text)


@app.command()
def status() -> None:
    """Documents, augmented, encoded and adapter bytes for this model and recipe."""
    with _errors():
        s = state.open().status()
    table = Table(title=f"collection {s.collection} · model {s.model} · recipe {s.recipe}")
    for column in ("documents", "augmented", "encoded", "adapter bytes", "indexed"):
        table.add_column(column, justify="right")
    table.add_row(str(s.documents), str(s.augmented), str(s.encoded), f"{s.adapter_bytes:,}", "yes" if s.indexed else "no")
    out.print(table)


@app.command()
def demo() -> None:
    """Build the bundled demo collection and score every mode on its questions."""
    with _errors(), _progress() as progress:
        scores = run_demo(state.home, state.model, progress)
    table = Table(title=f"prag demo · model {state.model} · 48 questions about invented facts")
    for column in ("mode", "EM", "F1", "EM (paraphrased)", "mean latency (s)"):
        table.add_column(column, justify="right")
    for s in scores:
        table.add_row(s.mode.value, f"{s.em:.1f}", f"{s.f1:.1f}", f"{s.em_paraphrased:.1f}", f"{s.latency:.3f}")
    out.print(table)


class _RichProgress:
    def __init__(self, progress: Progress):
        self.progress = progress

    def stage(self, name: str, total: int) -> Callable[[int], None]:
        task = self.progress.add_task(name, total=total)
        return lambda n=1: self.progress.advance(task, n)


@contextmanager
def _progress() -> Iterator[_RichProgress]:
    columns = (TextColumn("{task.description:>8}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), TimeRemainingColumn())
    with Progress(*columns, console=console) as progress:
        yield _RichProgress(progress)


@contextmanager
def _errors() -> Iterator[None]:
    try:
        yield
    except PragError as e:
        console.print(f"[red]error:[/] {e}")
        raise typer.Exit(2) from None
    except KeyboardInterrupt:
        console.print("[yellow]interrupted[/]: finished work is kept; run the same command again to resume")
        raise typer.Exit(130) from None


def main() -> None:
    app(prog_name="prag")


if __name__ == "__main__":
    sys.exit(main())
