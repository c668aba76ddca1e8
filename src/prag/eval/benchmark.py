"""`prag eval`: the paper's benchmark over a `Prag` built on the benchmark's own corpus.

Only the documents some evaluated question retrieves are augmented and encoded; adapters are shared by
every method and run. The evaluation itself (datasets, metrics, rows, reports) lives beside this module.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass, replace
from pathlib import Path

from prag import __version__
from prag.api import Prag
from prag.config import INIT_KINDS, Settings
from prag.engine.prompting import prompt_digest
from prag.errors import InputError
from prag.eval import datasets, report
from prag.eval import run as evaluation
from prag.eval.controls import stand_ins
from prag.eval.datasets import Example
from prag.eval.records import CONTROLS, controlled
from prag.eval.warmup import with_warmup
from prag.ingest import read_files
from prag.model import loader
from prag.progress import Progress, SilentProgress
from prag.retrieve.bm25 import corpus_digest
from prag.store.files import sha256_file
from prag.types import Answer, Document, Mode


@dataclass
class EvalRequest:
    """What `prag eval` was asked to do."""

    dataset: str
    data: Path
    out: Path
    methods: list[Mode]
    limit: int | None = None
    """Evaluate the first N questions (a `questions` range given too must start at 0)."""
    init: str = "random"
    corpus: Path | None = None
    prompt: str | None = None
    """`short` or `cot`; by default chain of thought on multi-hop datasets, as the paper does."""
    top_k: int = 3
    questions: tuple[int, int] | None = None
    """`--slice START:END`: the questions at file positions START..END-1, e.g. a dev slice 100:200 on
    which settings are chosen, kept apart from the test slice 0:100 that is reported."""
    controls: tuple[str, ...] = ()
    """`records.CONTROLS` to answer each adapter method with beside its own adapters."""

    def selected(self, examples: list[Example]) -> list[Example]:
        start, end = self.questions or (0, self.limit or len(examples))
        return examples[start:end]


def run_eval(
    request: EvalRequest,
    home: str | Path | None = None,
    model: str = loader.DEFAULT_MODEL,
    settings: Settings | None = None,
    progress: Progress = SilentProgress(),
) -> Path:
    """Evaluates every requested method on the benchmark's first `limit` questions, resuming what an
    earlier run in the same folder finished; writes predictions, results, report and plots. Only the
    documents some question retrieves are augmented and encoded (adapters are shared across runs)."""
    prag, examples, corpus = _evaluated_prag(request, home, model, settings)
    answer = prag.settings.answer
    evaluation.open_run_folder(request.out, _identity(request, prag, corpus))
    provenance = {
        "prag_version": __version__, "model": model, "recipe_hash": prag.runtime.recipe_key, "merge": answer.merge_label,
    }
    if answer.elicit:  # named on the rows it shaped, as on the run (RunIdentity.elicit)
        provenance["elicit"] = True
    if answer.stated_at_once:
        provenance["at_once"] = True

    def answer_many(questions: list[str], mode: Mode) -> list[Answer]:
        # Looked up when answering: the engine holds the index, which exists only once the corpus is built.
        return (prag.engine if corpus is not None else prag.closed_book()).ask_many(questions, mode)

    run = evaluation.Evaluation(request.out, examples, answer_many, answer.batch_size, answer.prompt == "cot", provenance)
    retrieved = _retrieve_all(prag, run, request, corpus, progress) if corpus is not None else {}
    needed = {doc_id for ids in retrieved.values() for doc_id in ids}
    _answer_cheapest_first(prag, run, request, needed, progress)
    _answer_controls(prag, run, request, examples, retrieved, progress)
    return report.write(request.out)


def encode_retrieved(
    request: EvalRequest,
    home: str | Path | None = None,
    model: str = loader.DEFAULT_MODEL,
    settings: Settings | None = None,
    progress: Progress = SilentProgress(),
) -> int:
    """Augments and encodes the documents the requested questions retrieve, as `run_eval` would for its
    adapter methods, but answers nothing and writes no run folder: a test slice's adapters can be made
    while its settings are still being chosen on dev, and its one run then only answers. Returns how many
    documents the questions retrieve (those already encoded are kept)."""
    prag, examples, corpus = _evaluated_prag(replace(request, methods=[Mode.PRAG]), home, model, settings)
    _index_corpus(prag, request, corpus, progress)
    # Through the engine, so that these retrievals are not counted as demand: the run that answers counts its own.
    needed = {doc.id for example in examples for doc in prag.engine.retrieve(example.question, request.top_k)}
    prag.build(progress, encode=True, only=needed)
    return len(needed)


def _evaluated_prag(
    request: EvalRequest, home: str | Path | None, model: str, settings: Settings | None
) -> tuple[Prag, list[Example], list[Document] | None]:
    """The request checked, its questions, and a `Prag` on the benchmark's corpus set to ask them as the
    dataset is asked (its prompt and worked examples, the request's top-k, the warm-up start if asked for)."""
    _check(request)
    settings = settings or Settings.for_model(model)
    benchmark = datasets.load(request.dataset, request.data)
    examples = request.selected(benchmark.examples)
    if not examples:
        raise InputError(f"{request.data} has no questions in the slice {request.questions[0]}:{request.questions[1]}")
    answer = replace(datasets.asked_as(settings.answer, request.dataset, request.prompt), top_k=request.top_k)
    corpus = _eval_corpus(benchmark, request.corpus, settings)
    if corpus is None and any(m is not Mode.CLOSED for m in request.methods):
        raise InputError(f"{request.data} carries no passages: evaluate `closed` only, or pass a corpus with --corpus FILE")
    prag = Prag(home, collection=eval_collection(request.dataset, corpus), model=model, settings=replace(settings, answer=answer))
    if request.init == "warmup" and any(m.uses_adapters for m in request.methods):
        prag = with_warmup(prag, request.dataset, examples)
    return prag, examples, corpus


def _identity(request: EvalRequest, prag: Prag, corpus: list[Document] | None) -> evaluation.RunIdentity:
    settings = prag.settings
    aliases = datasets.aliases_file(request.dataset, request.data)
    return evaluation.RunIdentity(
        dataset=request.dataset,
        data_sha256=sha256_file(request.data),
        corpus_sha256=sha256_file(request.corpus) if request.corpus else "",
        corpus_digest=corpus_digest(corpus) if corpus else "",
        model=prag.model_spec,
        model_fingerprint=prag.runtime.model_fingerprint,
        prompt=settings.answer.prompt,
        top_k=request.top_k,
        augment_hash=prag.runtime.augment.fingerprint(),
        recipe={k: v for k, v in settings.recipe.described().items() if k not in ("init", "warmup")},
        aliases_sha256=sha256_file(aliases) if aliases else "",
        answer_digest=prompt_digest(settings.answer),
        merge=settings.answer.merge_label,
        questions=f"{request.questions[0]}:{request.questions[1]}" if request.questions else "first",
        elicit=settings.answer.elicit,
        retrieval=settings.answer.retrieval,
        at_once=settings.answer.stated_at_once,
    )


def _retrieve_all(prag: Prag, run: evaluation.Evaluation, request: EvalRequest, corpus: list[Document], progress: Progress) -> dict[str, list[str]]:
    """Indexes the corpus, records every question's top-k once, and returns each question's retrieved
    ids: their documents are the only ones any method will need augmented or encoded."""
    _index_corpus(prag, request, corpus, progress)
    # Each question is retrieved for once (a resumed run skips those recorded): counted once as demand.
    retrieved = run.record_retrieval(lambda q: prag.retrieve(q, request.top_k), {d.id for d in corpus})
    prag.flush_demand()
    return retrieved


def _index_corpus(prag: Prag, request: EvalRequest, corpus: list[Document], progress: Progress) -> None:
    """The benchmark's corpus added to its collection and indexed; nothing augmented or encoded yet."""
    prag.add_documents(corpus, source=str(request.data if request.corpus is None else request.corpus))
    prag.build(progress, augment=False, encode=False)


def _answer_cheapest_first(prag: Prag, run: evaluation.Evaluation, request: EvalRequest, needed: set[str], progress: Progress) -> None:
    """Methods that need neither augmentations nor adapters answer before any document is augmented,
    DA-RAG before any is encoded, so partial results come early in a long run."""
    plain = [m for m in request.methods if not (m.uses_augmentations or m.uses_adapters)]
    run.run(plain, request.init, progress)
    augmented = [m for m in request.methods if m.uses_augmentations]
    if augmented:
        prag.build(progress, encode=False, only=needed)
        run.run(augmented, request.init, progress)
    parametric = [m for m in request.methods if m.uses_adapters]
    if parametric:
        prag.build(progress, encode=True, only=needed)
        _note_shared_component(prag, run)
        run.run(parametric, request.init, progress)


def _note_shared_component(prag: Prag, run: evaluation.Evaluation) -> None:
    """A `+shared` merge estimates the shared part from the adapters the store holds when answering starts:
    every prediction row then records how many it averaged and the share of their mean it keeps."""
    if any(merge.shared is not None for merge in prag.settings.answer.merges):
        shared = prag.engine.shared_component()
        run.provenance["shared_component"] = {"adapters": shared.adapters, "energy_kept": round(shared.energy_kept, 4)}


def _answer_controls(
    prag: Prag, run: evaluation.Evaluation, request: EvalRequest, examples: list[Example], retrieved: dict[str, list[str]], progress: Progress
) -> None:
    """Each adapter method again under each control, after every document it needs is encoded: the
    stand-ins are the same stored adapters (or the warm-up), so a control trains nothing."""
    parametric = [m for m in request.methods if m.uses_adapters]
    if not (parametric and request.controls):
        return
    start = prag.runtime.start_adapter()  # read once for every control
    for control in request.controls:
        instead = stand_ins(control, prag.engine, start, examples, retrieved)
        run.run(parametric, controlled(request.init, control), progress, lambda qs, mode: prag.engine.ask_many(qs, mode, stand_ins=instead))


def _check(request: EvalRequest) -> None:
    """Options checked before any file is written, so a bad one leaves no run folder behind."""
    if request.limit is not None and request.limit < 1:
        raise InputError("--limit must be at least 1")
    if request.questions is not None:
        _check_span(*request.questions)
        if request.limit is not None:
            raise InputError("give --limit or --slice, not both")
    if request.init not in INIT_KINDS:
        raise InputError(f"unknown init {request.init!r}; choose one of {', '.join(INIT_KINDS)}")
    if request.top_k < 1:
        raise InputError("--top-k must be at least 1")
    unknown = [c for c in request.controls if c not in CONTROLS]
    if unknown:
        raise InputError(f"unknown control(s) {', '.join(unknown)}; choose from {', '.join(CONTROLS)}")
    if "start" in request.controls and request.init != "warmup":
        raise InputError("the `start` control replaces adapters by the warm-up they started from: it needs --init warmup")
    if request.controls and not any(m.uses_adapters for m in request.methods):
        raise InputError("--controls stand in for adapters: evaluate prag or combine with them")


def _eval_corpus(benchmark: datasets.Benchmark, corpus_file: Path | None, settings: Settings) -> list[Document] | None:
    if corpus_file is not None:
        return read_files([Path(corpus_file)], settings.ingest).documents
    return benchmark.corpus() if benchmark.has_contexts else None


def eval_collection(dataset: str, corpus: list[Document] | None) -> str:
    """One collection per distinct corpus, so a corpus is indexed once and shared by every run on it."""
    return f"eval-{dataset}-{corpus_digest(corpus)}" if corpus else f"eval-{dataset}-closed"


def parse_slice(text: str) -> tuple[int, int]:
    """`START:END` (question positions in file order, END excluded), e.g. `100:200`."""
    start, sep, end = text.partition(":")
    if not sep or not start.strip().isdigit() or not end.strip().isdigit():
        raise InputError(f"--slice {text!r}: expected START:END with whole numbers, e.g. 100:200")
    _check_span(int(start), int(end))
    return int(start), int(end)


def _check_span(start: int, end: int) -> None:
    """One check for a slice parsed from text and one a caller builds itself."""
    if not 0 <= start < end:
        raise InputError(f"--slice {start}:{end}: START must be at least 0 and END above START")


def slice_argument(text: str) -> tuple[int, int]:
    """`parse_slice` as an argparse `type`: argparse turns only ValueError-like errors into a usage message,
    so a bad slice given to a benchmark script would otherwise end in a traceback."""
    try:
        return parse_slice(text)
    except InputError as e:
        raise argparse.ArgumentTypeError(str(e)) from None
