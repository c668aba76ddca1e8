"""The benchmark beside the facade: `prag eval`, `prag warmup`, and reports and comparisons of run folders.

It wires a `Prag` over a benchmark's corpus to the evaluation run; the evaluation itself (datasets,
metrics, rows, reports) lives in `prag.eval`.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from prag import __version__
from prag.api import Prag
from prag.config import INIT_KINDS, PROMPTS, AnswerConfig, Settings
from prag.errors import InputError
from prag.eval import datasets, report
from prag.eval import run as evaluation
from prag.eval.datasets import DATASETS, Example
from prag.eval.run import METHODS, parse_methods
from prag.ingest import read_files
from prag.model import loader
from prag.model.exemplars import EXEMPLARS
from prag.model.prompts import ANSWER_PREFIX, COT_PREFIX, answer_user_turn, cot_user_turn
from prag.progress import Progress, SilentProgress
from prag.retrieve.bm25 import corpus_digest
from prag.store.files import sha256_file
from prag.text import normalize_answer
from prag.types import Answer, Document, Mode, QAPair, content_hash

__all__ = [
    "DATASETS", "METHODS", "EvalRequest", "compare_runs", "combined_report", "parse_methods", "run_eval",
    "run_warmup", "WarmupResult", "write_report",
]


@dataclass
class EvalRequest:
    """What `prag eval` was asked to do."""

    dataset: str
    data: Path
    out: Path
    methods: list[Mode]
    limit: int | None = None
    init: str = "random"
    corpus: Path | None = None
    prompt: str | None = None
    """`short` or `cot`; by default chain of thought on multi-hop datasets, as the paper does."""
    top_k: int = 3


def run_eval(
    request: EvalRequest,
    home: str | Path | None = None,
    model: str = loader.DEFAULT_MODEL,
    settings: Settings = Settings(),
    progress: Progress = SilentProgress(),
) -> Path:
    """Evaluates every requested method on the benchmark's first `limit` questions, resuming what an
    earlier run in the same folder finished; writes predictions, results, report and plots. Only the
    documents some question retrieves are augmented and encoded (adapters are shared across runs)."""
    _check(request)
    prompt = _prompt(request)
    benchmark = datasets.load(request.dataset, request.data)
    examples = benchmark.examples[: request.limit] if request.limit else benchmark.examples
    answer = replace(settings.answer, prompt=prompt, exemplars=request.dataset, top_k=request.top_k)
    corpus = _eval_corpus(benchmark, request.corpus, settings)
    if corpus is None and any(m is not Mode.CLOSED for m in request.methods):
        raise InputError(f"{request.data} carries no passages: evaluate `closed` only, or pass a corpus with --corpus FILE")
    prag = Prag(home, collection=_eval_collection(request.dataset, corpus), model=model, settings=replace(settings, answer=answer))
    if request.init == "warmup" and any(m.uses_adapters for m in request.methods):
        prag = _with_warmup(prag, request.dataset, examples)
    evaluation.open_run_folder(request.out, _identity(request, prag, corpus))
    provenance = {"prag_version": __version__, "model": model, "recipe_hash": prag.settings.recipe.fingerprint()}

    def answer_many(questions: list[str], mode: Mode) -> list[Answer]:
        # Looked up when answering: the engine holds the index, which exists only once the corpus is built.
        return (prag.engine if corpus is not None else prag.closed_book).ask_many(questions, mode)

    run = evaluation.Evaluation(request.out, examples, answer_many, answer.batch_size, prompt == "cot", provenance)
    needed = _retrieve_all(prag, run, request, corpus, progress) if corpus is not None else set()
    _answer_cheapest_first(prag, run, request, needed, progress)
    return report.write(request.out)


def _identity(request: EvalRequest, prag: Prag, corpus: list[Document] | None) -> evaluation.RunIdentity:
    settings = prag.settings
    aliases = datasets.aliases_file(request.dataset, request.data)
    return evaluation.RunIdentity(
        dataset=request.dataset,
        data_sha256=sha256_file(request.data),
        corpus_sha256=sha256_file(request.corpus) if request.corpus else "",
        corpus_digest=corpus_digest(corpus) if corpus else "",
        model=prag.model_spec,
        model_fingerprint=prag.model_fingerprint,
        prompt=settings.answer.prompt,
        top_k=request.top_k,
        augment_hash=settings.augment.fingerprint(),
        recipe={k: v for k, v in asdict(settings.recipe).items() if k not in ("init", "warmup")},
        aliases_sha256=sha256_file(aliases) if aliases else "",
        answer_digest=_answer_digest(settings.answer),
    )


def _retrieve_all(prag: Prag, run: evaluation.Evaluation, request: EvalRequest, corpus: list[Document], progress: Progress) -> set[str]:
    """Indexes the corpus, records every question's top-k once, and returns the documents retrieved: the
    only ones any method will need augmented or encoded."""
    prag.add_documents(corpus, source=str(request.data if request.corpus is None else request.corpus))
    prag.build(progress, augment=False, encode=False)
    retrieved = run.record_retrieval(lambda q: prag.engine.retrieve(q, request.top_k), {d.id for d in corpus})
    return {doc_id for ids in retrieved.values() for doc_id in ids}


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
        run.run(parametric, request.init, progress)


def _check(request: EvalRequest) -> None:
    """Options checked before any file is written, so a bad one leaves no run folder behind."""
    if request.limit is not None and request.limit < 1:
        raise InputError("--limit must be at least 1")
    if request.init not in INIT_KINDS:
        raise InputError(f"unknown init {request.init!r}; choose one of {', '.join(INIT_KINDS)}")
    if request.top_k < 1:
        raise InputError("--top-k must be at least 1")


def _prompt(request: EvalRequest) -> str:
    """Checked before any file is written, so a bad option leaves no run folder behind."""
    prompt = request.prompt or ("cot" if request.dataset in datasets.MULTI_HOP else "short")
    if prompt not in PROMPTS:
        raise InputError(f"unknown prompt {prompt!r}; choose one of {', '.join(PROMPTS)}")
    if prompt == "cot" and request.dataset not in EXEMPLARS:
        raise InputError(f"chain of thought has worked examples for {', '.join(EXEMPLARS)} only; use --prompt short")
    return prompt


def _answer_digest(answer: AnswerConfig) -> str:
    """What shapes every generation besides the model and adapters: the prompt as rendered (instruction,
    worked examples, layout) and the generation settings. Editing any makes a folder's rows stale."""
    passages = ["First passage.", "Second passage."]
    if answer.prompt == "cot":
        rendered = [cot_user_turn("Question", passages, EXEMPLARS[answer.exemplars]), COT_PREFIX]
    else:
        rendered = [answer_user_turn("Question", passages), ANSWER_PREFIX]
    generation = {k: v for k, v in asdict(answer).items() if k not in ("batch_size", "adapter_cache_bytes")}
    return content_hash(json.dumps([rendered, generation], sort_keys=True))[:16]


def _eval_corpus(benchmark: datasets.Benchmark, corpus_file: Path | None, settings: Settings) -> list[Document] | None:
    if corpus_file is not None:
        return read_files([Path(corpus_file)], settings.ingest).documents
    return benchmark.corpus() if benchmark.has_contexts else None


def _eval_collection(dataset: str, corpus: list[Document] | None) -> str:
    """One collection per distinct corpus, so a corpus is indexed once and shared by every run on it."""
    return f"eval-{dataset}-{corpus_digest(corpus)}" if corpus else f"eval-{dataset}-closed"


# -- warm-up -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class WarmupResult:
    digest: str
    trained: bool  # False when an identical warm-up LoRA was already stored


def run_warmup(
    dataset: str,
    data: Path,
    skip_first: int,
    count: int,
    home: str | Path | None = None,
    model: str = loader.DEFAULT_MODEL,
    settings: Settings = Settings(),
    retrain: bool = False,
) -> WarmupResult:
    """Trains the warm-up LoRA on `count` questions after the first `skip_first` (the evaluated slice is
    never among them) and names it after the dataset. One already trained on the same questions with the
    same model and recipe is kept, as document adapters are, unless `retrain`."""
    if skip_first < 0 or count < 1:
        raise InputError("--skip-first must be >= 0 and --count >= 1")
    examples = datasets.load(dataset, data).examples[skip_first : skip_first + count]
    if not examples:
        raise InputError(f"{data} has no questions after the first {skip_first}")
    pairs = [QAPair(e.question, e.golds[0]) for e in examples]
    prag = Prag(home, collection="warmup", model=model, settings=settings)
    source = {
        "dataset": dataset,
        "data_sha256": sha256_file(data),
        "questions": [skip_first, skip_first + len(pairs)],
        "question_hashes": sorted(_question_hashes(examples)),
    }
    known = None if retrain else prag.trained_warmup(dataset, source)
    if known:
        return WarmupResult(known, trained=False)
    return WarmupResult(prag.train_warmup(pairs, dataset, source), trained=True)


def _with_warmup(prag: Prag, dataset: str, evaluated: list[Example]) -> Prag:
    record = prag.warmup_record(dataset)
    # Compared by question text, not position: another file of the same benchmark (the official dev
    # set and its 500-question sample) shares questions under other indices.
    seen = _question_hashes(evaluated) & set(record["question_hashes"])
    if seen:
        first, end = record["questions"]
        raise InputError(
            f"the warm-up LoRA was trained on {len(seen)} of the {len(evaluated)} evaluated questions (it used questions "
            f"{first}..{end - 1} of its file): retrain it with `prag warmup` on questions outside the evaluated slice"
        )
    recipe = replace(prag.settings.recipe, init="warmup", warmup=record["digest"])
    return Prag(prag.home, prag.collection, prag.model_spec, prag.settings.with_recipe(recipe))


def _question_hashes(examples: list[Example]) -> set[str]:
    return {content_hash(normalize_answer(e.question))[:16] for e in examples}


# -- reports -------------------------------------------------------------------------------------


def write_report(folder: str | Path) -> Path:
    """Regenerates a run folder's results, report and plots from its files."""
    return report.write(Path(folder))


def combined_report(folders: list[str | Path]) -> str:
    """Several run folders as one table shaped like the paper's Table 1."""
    return report.render_combined([report.summarize(Path(f)) for f in folders])


def compare_runs(first: tuple[Path, str, str | None], second: tuple[Path, str, str | None]) -> dict:
    """Paired F1 difference of two (folder, method, init) sides on the questions both answered."""
    return report.compare(first, second)
