"""prag: Parametric RAG from the command line."""

from __future__ import annotations

import json
import socket
import sys
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Annotated, Iterator, Optional

from prag.process import configure_process

configure_process()  # this module is where the process starts, before transformers is first imported

import typer  # noqa: E402
from rich.console import Console  # noqa: E402
from rich.markup import escape  # noqa: E402
from rich.table import Table  # noqa: E402

from prag.api import Prag  # noqa: E402
from prag.cli.progress import progress_on  # noqa: E402
from prag.config import (  # noqa: E402
    INIT_KINDS, MERGE_WEIGHTINGS, PRECISIONS, PROMPTS, QUESTION_STYLES, RECIPES, RETRIEVALS, AnswerConfig, AugmentConfig, ClusterConfig, Settings, combine_merge_for, merge_for, parse_budget, parse_merge, parse_recipe, recipe_for,
)
from prag.errors import InputError, PragError  # noqa: E402
from prag.eval import report as reports  # noqa: E402
from prag.eval.benchmark import EvalRequest, parse_slice, run_eval  # noqa: E402
from prag.eval.datasets import DATASETS  # noqa: E402
from prag.eval.demo import run_demo  # noqa: E402
from prag.eval.run import METHODS, parse_methods  # noqa: E402
from prag.eval.records import CONTROLS  # noqa: E402
from prag.eval.warmup import run_warmup  # noqa: E402
from prag.ingest import read_questions  # noqa: E402
from prag.types import Mode  # noqa: E402

app = typer.Typer(add_completion=False, no_args_is_help=True, help=__doc__, pretty_exceptions_show_locals=False)
console = Console(stderr=True)
stdout = Console()


class GlobalOptions:
    """The options given before the subcommand."""

    home: Optional[Path] = None
    collection: str = "default"
    model: str = "default"
    recipe: Optional[str] = None
    """None: the model's own (`config.MODEL_DEFAULTS`)."""
    precision: Optional[str] = None
    merge: Optional[str] = None
    """None: the model's own (`config.MODEL_DEFAULTS`)."""
    combine_merge: Optional[str] = None
    """None: `merge` when it is given, else the model's own."""
    augment_model: Optional[str] = None
    """None: the model augments its own documents."""
    augment_questions: str = "example"
    elicit: bool = False
    retrieval: str = "bm25"
    at_once: bool = False

    def open(self) -> Prag:
        return Prag(self.home, self.collection, self.model, self.settings())

    def settings(self) -> Settings:
        recipe = parse_recipe(self.recipe) if self.recipe is not None else recipe_for(self.model)
        if self.precision is not None:
            if self.precision not in PRECISIONS:
                raise InputError(f"unknown precision {self.precision!r}; choose one of {', '.join(PRECISIONS)}")
            recipe = replace(recipe, precision=self.precision)
        merge = parse_merge(self.merge) if self.merge is not None else merge_for(self.model)
        if self.combine_merge is not None:
            combine_merge = parse_merge(self.combine_merge, "--combine-merge")
        else:  # `--merge X` alone means X for every mode
            combine_merge = combine_merge_for(self.model) if self.merge is None else None
        if self.retrieval not in RETRIEVALS:
            raise InputError(f"unknown retrieval {self.retrieval!r}; choose one of {', '.join(RETRIEVALS)}")
        answer = AnswerConfig(merge=merge, combine_merge=combine_merge, elicit=self.elicit, retrieval=self.retrieval, at_once=self.at_once)
        try:
            augment = AugmentConfig(model=self.augment_model, questions=self.augment_questions)
        except ValueError as e:
            raise InputError(f"--augment-questions {self.augment_questions!r}: {e}") from None
        return Settings(recipe=recipe, augment=augment, answer=answer)


given = GlobalOptions()


@app.callback()
def global_options(
    home: Annotated[Optional[Path], typer.Option(help="State folder (default: $PRAG_HOME or the user data dir).")] = None,
    collection: Annotated[str, typer.Option(help="Collection name.")] = "default",
    model: Annotated[str, typer.Option(help="default | qwen-coder-0.5b | path to a Hugging Face folder.")] = "default",
    recipe: Annotated[
        Optional[str], typer.Option(help=f"Encoding recipe: {' | '.join(RECIPES)}, [@FIELD=VALUE…] e.g. default@epochs=1 (default: the model's own, see `prag status`).")
    ] = None,
    precision: Annotated[
        Optional[str], typer.Option(help=f"Training arithmetic, overriding the recipe's: {' | '.join(PRECISIONS)} (bf16: CPUs with avx512_bf16/amx).")
    ] = None,
    merge: Annotated[
        Optional[str],
        typer.Option(help=f"How retrieved adapters combine: {' | '.join(MERGE_WEIGHTINGS)} (sum: the paper's), [:ALPHA], [+start-once | +shared:C] (C copies kept of what every adapter shares; default: the model's own).")
    ] = None,
    combine_merge: Annotated[
        Optional[str], typer.Option(help="Combine's own merge, same spelling (default: --merge if given, else the model's own).")
    ] = None,
    augment_model: Annotated[
        Optional[str], typer.Option(help="The model that writes the rewrites and QA pairs (default: --model itself), e.g. qwen-coder-0.5b.")
    ] = None,
    augment_questions: Annotated[
        str,
        typer.Option(
            help=f"How QA pairs are asked for: {' | '.join(QUESTION_STYLES)} (example: one prompt per document with a worked example; "
            "sentence: one per sentence of the passage, for models that copy the example's questions).",
        ),
    ] = "example",
    elicit: Annotated[
        bool,
        typer.Option(help="A chain-of-thought answer that stops without stating its answer is led on from \"So the answer is\" (the answer format then scores alike in every mode)."),
    ] = False,
    retrieval: Annotated[
        str,
        typer.Option(help=f"How the top-k are found: {' | '.join(RETRIEVALS)} (bm25: the paper's; links: BM25's upper half, then documents its passages name by title, a multi-hop question's second hop)."),
    ] = "bm25",
    at_once: Annotated[
        bool,
        typer.Option(help="A chain-of-thought prompt states its answer at once (\"Answer: So the answer is\"), generating no reasoning."),
    ] = False,
) -> None:
    """Parametric RAG: inject retrieved documents into the model's weights."""
    given.home, given.collection, given.model, given.recipe, given.precision = home, collection, model, recipe, precision
    given.merge, given.combine_merge, given.augment_model, given.augment_questions = merge, combine_merge, augment_model, augment_questions
    given.elicit, given.retrieval, given.at_once = elicit, retrieval, at_once


@app.command()
def add(files: Annotated[list[Path], typer.Argument(help="JSONL ({id?, title?, text} per line), .txt or .md files.")]) -> None:
    """Add documents to the collection (all or nothing per call)."""
    with _errors():
        report = given.open().add(files)
    for note in report.notes:
        console.print(f"[yellow]note:[/] {note}")
    stdout.print(f"added {len(report.added)} document(s); {len(report.unchanged)} already present")


RayAddress = Annotated[
    Optional[str],
    typer.Option(
        "--ray", metavar="[ADDRESS]",
        help="Augment and encode on Ray workers: alone, a local Ray for this run; auto: the cluster in RAY_ADDRESS; or HOST:PORT.",
    ),
]
RayWorkerCount = Annotated[
    Optional[int], typer.Option("--workers", min=1, help="With --ray: worker actors (default: the cluster's CPUs / --worker-cpus).")
]
RayWorkerCpus = Annotated[int, typer.Option("--worker-cpus", min=1, help="With --ray: CPUs, and torch threads, per worker.")]


@app.command()
def build(
    ray: RayAddress = None,
    workers: RayWorkerCount = None,
    worker_cpus: RayWorkerCpus = 1,
    budget: Annotated[
        Optional[str], typer.Option(help="Encode only the N (or P% of the collection) most-retrieved documents not yet encoded.")
    ] = None,
    by_log: Annotated[
        Optional[Path], typer.Option("--by-log", help="With --budget: demand from a file of questions (one per line; retrieval only).")
    ] = None,
) -> None:
    """Index, augment and encode every document not yet done (resumable)."""
    with _errors(), progress_on(console) as progress:
        cluster = _cluster(ray, workers, worker_cpus)
        prag = given.open()
        questions = read_questions(by_log, prag.settings.answer.max_question_chars) if by_log else None
        report = prag.build(progress, cluster=cluster, budget=parse_budget(budget) if budget else None, questions=questions)
    if report.chosen is not None:
        stdout.print(f"budget {budget}: {len(report.chosen)} most-retrieved document(s) not yet encoded chosen")
    for line in report.repaired:
        console.print(f"[yellow]repaired:[/] {escape(line)}", soft_wrap=True)
    for doc_id, reason in report.failed.items():
        console.print(f"[yellow]not encoded:[/] {escape(doc_id)}: {escape(reason)} (the next build tries again)", soft_wrap=True)
    failed = f", {len(report.failed)} failed" if report.failed else ""
    stdout.print(f"{report.documents} documents: {report.augmented} newly augmented, {report.encoded} newly encoded{failed}")


@app.command()
def ask(
    question: Annotated[Optional[str], typer.Argument(help="The question (or use --questions).")] = None,
    questions: Annotated[
        Optional[Path], typer.Option("--questions", help="A file of questions: one per line, or JSONL with a \"question\" field.")
    ] = None,
    mode: Annotated[str, typer.Option(help=" | ".join(m.value for m in Mode))] = Mode.PRAG.value,
    top_k: Annotated[int, typer.Option("--top-k", help="Documents to retrieve.")] = AnswerConfig.top_k,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object per answer.")] = False,
) -> None:
    """Answer questions: Retrieve, Update, Generate. A file of questions is answered in batches."""
    with _errors():
        if (question is None) == (questions is None):
            raise InputError("give either a question or --questions FILE")
        prag = given.open()
        if question is not None:
            _print_answers([prag.ask(question, mode, top_k)], as_json)
            return
        items = read_questions(questions, prag.settings.answer.max_question_chars)
        with progress_on(console) as progress:
            advance = progress.stage("answer", len(items))

            def show(batch: list) -> None:
                _print_answers(batch, as_json)
                advance(len(batch))

            prag.ask_many(items, mode, top_k, on_batch=show)


def _cluster(address: str | None, workers: int | None, cpus: int) -> ClusterConfig | None:
    if address is None:
        if workers is not None or cpus != 1:
            raise InputError("--workers and --worker-cpus need --ray")
        return None
    try:
        return ClusterConfig(address, workers, cpus)
    except ValueError as e:
        raise InputError(f"--ray: {e}") from None


def _print_answers(answers: list, as_json: bool) -> None:
    for answer in answers:
        typer.echo(json.dumps(answer.to_dict()) if as_json else answer.text)


@app.command()
def status() -> None:
    """Documents, augmented, encoded and adapter bytes for this model and recipe; the share of recent
    retrievals that found an encoded document."""
    with _errors():
        s = given.open().status()
    written_by = f" · augmented by {s.augment_model}" if s.augment_model != s.model else ""
    written_by += f" · QA pairs by {s.augment_questions}" if s.augment_questions != "example" else ""
    table = Table(title=f"collection {s.collection} · model {s.model} · recipe {s.recipe}{written_by} · merge {s.merge} · {s.answering}")
    for column in ("documents", "augmented", "encoded", "adapter bytes", "indexed"):
        table.add_column(column, justify="right")
    table.add_row(str(s.documents), str(s.augmented), str(s.encoded), f"{s.adapter_bytes:,}", "yes" if s.indexed else "no")
    stdout.print(table)
    if s.recent_coverage is None:
        stdout.print(f"no retrievals in the last {s.recent_days} days")
    else:
        stdout.print(
            f"retrievals in the last {s.recent_days} days: {s.recent_retrievals:,}, "
            f"{s.recent_coverage:.0%} of them of an encoded document ({s.recent_encoded:,})"
        )
    for line in s.damaged:
        console.print(f"[yellow]damaged:[/] {escape(line)} (the next build replaces it)", soft_wrap=True)


@app.command()
def demo() -> None:
    """Build the bundled demo collection and score every mode on its questions."""
    with _errors(), progress_on(console) as progress:
        scores = run_demo(given.home, given.model, progress, given.settings())
    table = Table(title=f"prag demo · model {given.model} · 48 questions about invented facts")
    for column in ("mode", "EM", "F1", "EM (paraphrased)", "s / question"):
        table.add_column(column, justify="right")
    for s in scores:
        table.add_row(s.mode.value, f"{s.em:.1f}", f"{s.f1:.1f}", f"{s.em_paraphrased:.1f}", f"{s.latency:.3f}")
    stdout.print(table)


@app.command(name="eval")
def eval_(
    dataset: Annotated[str, typer.Option(help=f"{' | '.join(DATASETS)}")],
    data: Annotated[Path, typer.Option(help="The dataset file (original format or the copies in shared/data).")],
    out: Annotated[
        Optional[Path], typer.Option(help="Run folder: predictions, results, report, plots; a rerun resumes it. Default runs/DATASET-MODEL.")
    ] = None,
    limit: Annotated[Optional[int], typer.Option(help="Evaluate the first N questions.")] = None,
    questions: Annotated[
        Optional[str], typer.Option("--slice", help="Evaluate questions START:END (file order, END excluded), e.g. 100:200.")
    ] = None,
    methods: Annotated[str, typer.Option(help=f"Comma-separated: {','.join(METHODS)}.")] = ",".join(METHODS),
    init: Annotated[str, typer.Option(help=f"Adapter initialisation: {' | '.join(INIT_KINDS)} (warmup: after `prag warmup`).")] = INIT_KINDS[0],
    controls: Annotated[
        str, typer.Option(help=f"Comma-separated controls answered beside prag and combine: {', '.join(CONTROLS)} (start: --init warmup only).")
    ] = "",
    corpus: Annotated[Optional[Path], typer.Option(help="Retrieval corpus for datasets without passages (JSONL/.txt/.md).")] = None,
    prompt: Annotated[Optional[str], typer.Option(help=f"{' | '.join(PROMPTS)} (default: cot on multi-hop datasets).")] = None,
    top_k: Annotated[int, typer.Option("--top-k", help="Documents to retrieve.")] = AnswerConfig.top_k,
    model: Annotated[Optional[str], typer.Option(help="As the global --model, which it overrides.")] = None,
) -> None:
    """Evaluate methods on a benchmark (resumable); writes predictions.jsonl, results.json, report.md, plots."""
    model = model or given.model
    with _errors(), progress_on(console) as progress:
        span = parse_slice(questions) if questions is not None else None
        out = out or Path("runs") / ("-".join([dataset, Path(model).name, *map(str, span or ())]))
        wanted = tuple(c.strip() for c in controls.split(",") if c.strip())
        request = EvalRequest(dataset, data, out, parse_methods(methods), limit, init, corpus, prompt, top_k, span, wanted)
        path = run_eval(request, given.home, model, given.settings(), progress)
    typer.echo(path.read_text(encoding="utf-8"))


@app.command()
def report(folders: Annotated[list[Path], typer.Argument(help="Run folders written by `prag eval`.")]) -> None:
    """Regenerate each run folder's results, report and plots from its predictions alone; with several
    folders, also print them side by side as one table."""
    with _errors():
        for folder in folders:
            typer.echo(reports.write(folder).read_text(encoding="utf-8"))
        if len(folders) > 1:
            typer.echo(reports.render_combined([reports.summarize(f) for f in folders]))


@app.command()
def compare(
    first: Annotated[str, typer.Argument(help="FOLDER[,FOLDER…]:METHOD[@INIT], e.g. runs/hotpotqa-paper:prag, runs/h:prag@warmup, runs/h:combine@warmup/foreign (a control, `prag eval --controls`), or runs/h-0-50,runs/h-50-100:prag (parts of one run pooled).")],
    second: Annotated[str, typer.Argument(help="The baseline, same form, e.g. runs/hotpotqa:rag.")],
    by_type: Annotated[bool, typer.Option("--by-type", help="Also compare within each question type (bridge, comparison, …).")] = False,
) -> None:
    """Paired F1 difference of two methods on the questions both answered, from two run folders of one
    benchmark file (another recipe, prompt or model) or one folder, with a bootstrap interval; a folder
    may be one kept with its scores alone (bench/scores/)."""
    with _errors():
        sides = [reports.parse_side(first), reports.parse_side(second)]
        result = reports.compare(*sides)
    names = [",".join(map(str, folders)) + f":{method}" + (f"@{init}" if init else "") for folders, method, init in sides]
    table = Table(title=f"F1 %: first = {names[0]}, second = {names[1]}; Δ = first − second, paired bootstrap 95 %")
    groups = {"all": result["by_protocol"], **(result["by_type"] if by_type else {})}
    for column in ("type",) * by_type + ("protocol", "questions", "first", "second", "Δ F1", "interval", "won / lost"):
        table.add_column(column, justify="right")
    for group, protocols in groups.items():
        for protocol, r in protocols.items():
            table.add_row(*(group,) * by_type, protocol, *_paired_cells(r))
    stdout.print(table)
    stdout.print(f"Generations that differ: {result['changed']} of {result['questions']}")


def _paired_cells(r: dict) -> tuple[str, ...]:
    """One comparison row's cells; a question type answered once has no paired interval."""
    d = r["difference"]
    means = str(r["first"]["n"]), f"{r['first']['f1']:.1f}", f"{r['second']['f1']:.1f}"
    if d is None:
        return *means, "–", "–", "–"
    low, high = d["interval"]
    return *means, f"{d['delta']:+.1f}", f"[{low:.1f}, {high:.1f}]", f"{d['wins']} / {d['losses']}"


@app.command()
def warmup(
    dataset: Annotated[str, typer.Option(help=f"{' | '.join(DATASETS)}")],
    data: Annotated[Path, typer.Option(help="The dataset file.")],
    skip_first: Annotated[int, typer.Option("--skip-first", help="Questions to leave out: the evaluated slice.")],
    count: Annotated[int, typer.Option(help="Question-answer pairs to train on, after the skipped ones.")] = 200,
    retrain: Annotated[bool, typer.Option(help="Train again even if this warm-up LoRA is already stored.")] = False,
    model: Annotated[Optional[str], typer.Option(help="As the global --model, which it overrides.")] = None,
    prompt: Annotated[
        Optional[str], typer.Option(help=f"{' | '.join(PROMPTS)}: the one `prag eval` will ask in (default: cot on multi-hop datasets).")
    ] = None,
) -> None:
    """Train the warm-up LoRA on QA pairs outside the evaluated slice; `prag eval --init warmup` starts from it."""
    with _errors():
        result = run_warmup(dataset, data, skip_first, count, given.home, model or given.model, given.settings(), retrain, prompt)
    done = "trained" if result.trained else "already trained (kept; --retrain to train again)"
    stdout.print(f"warm-up LoRA {result.digest} {done} on up to {count} questions from question {skip_first} of {data}")


@app.command()
def serve(
    host: Annotated[Optional[str], typer.Option(help="Interface to bind (default 127.0.0.1, loopback only).")] = None,
    port: Annotated[int, typer.Option(min=1, max=65535, help="TCP port.")] = 8000,
    token_file: Annotated[
        Optional[Path], typer.Option("--token-file", help="File holding the bearer token that POST/DELETE /v1/documents require.")
    ] = None,
    ray: RayAddress = None,
    workers: RayWorkerCount = None,
    worker_cpus: RayWorkerCpus = 1,
) -> None:
    """Serve the collection over HTTP: live ingestion, background encoding, hybrid answers (OpenAPI at /docs)."""
    import uvicorn

    from prag.server.app import create_app
    from prag.server.service import Service

    bind = host or "127.0.0.1"
    with _errors():
        token = _read_token(token_file) if token_file else None
        cluster = _cluster(ray, workers, worker_cpus)
        listener = _listen(bind, port)  # before the model loads, so a port in use fails at once
        service = Service(given.open(), token, cluster)
    if token is None:
        where = "loopback only" if host is None else f"{host}, reachable by anyone who can reach it"
        console.print(f"[yellow]no --token-file:[/] document writes need no token; listening on {where}")
    console.print(f"prag serving collection {given.collection!r} on http://{bind}:{port} (API docs at /docs)")
    server = uvicorn.Server(uvicorn.Config(create_app(service), log_level="warning"))
    server.run(sockets=[listener])
    if not server.started:  # uvicorn has logged why (the app failed to start); `uvicorn.run` exits 3 too
        raise typer.Exit(3)


def _listen(host: str, port: int) -> socket.socket:
    """The server's socket, bound here rather than by uvicorn, which binds only once the app has started."""
    try:
        family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
    except socket.gaierror as e:
        raise InputError(f"cannot listen on {host}:{port}: {e.strerror}") from None
    listener = socket.socket(family, socket.SOCK_STREAM)
    try:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn: a restart need not wait out TIME_WAIT
        listener.bind((host, port))
    except OSError as e:
        listener.close()
        raise InputError(f"cannot listen on {host}:{port}: {e.strerror or e}") from None
    return listener


def _read_token(path: Path) -> str:
    if path.is_dir():
        raise InputError(f"{path}: is a directory, not a token file")
    if not path.is_file():
        raise InputError(f"{path}: no such token file")
    try:
        token = path.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as e:
        raise InputError(f"{path}: cannot read the token: {e}") from None
    if not token or any(ch.isspace() for ch in token):
        raise InputError(f"{path}: the token must be one non-empty word")
    return token


@contextmanager
def _errors() -> Iterator[None]:
    try:
        yield
    except PragError as e:
        # One line whatever the terminal's width; messages quote [brackets] and paths.
        console.print(f"[red]error:[/] {escape(str(e))}", soft_wrap=True)
        raise typer.Exit(2) from None
    except KeyboardInterrupt:
        console.print("[yellow]interrupted[/]: finished work is kept; run the same command again to resume")
        raise typer.Exit(130) from None


def main() -> None:
    app(args=with_ray_default(sys.argv[1:]), prog_name="prag")


def with_ray_default(args: list[str]) -> list[str]:
    """`--ray` given no address means a local Ray: typer's options cannot leave their value out, so the
    default is written in (`local`) wherever nothing, or another option, follows `--ray`."""
    out = []
    for i, arg in enumerate(args):
        out.append(arg)
        if arg == "--ray" and (i + 1 == len(args) or args[i + 1].startswith("-")):
            out.append(ClusterConfig.address)
    return out


if __name__ == "__main__":
    sys.exit(main())
