"""The bundled demo: invented documents no model can know, questions about them, and the run that
builds the collection and scores every mode (`prag demo`)."""

from __future__ import annotations

import json
import statistics
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Callable

from prag.api import Prag
from prag.config import Settings
from prag.eval.metrics import exact_match, f1_score
from prag.model.loader import DEFAULT_MODEL
from prag.progress import Progress, SilentProgress
from prag.types import CORE_MODES, Answer, Mode


@dataclass(frozen=True)
class DemoQuestion:
    question: str
    answers: list[str]
    document: str
    paraphrased: bool


@dataclass(frozen=True)
class ModeScore:
    mode: Mode
    em: float
    f1: float
    latency: float
    """Mean seconds per question: a batch's time shared by its questions."""
    em_paraphrased: float


def documents_file() -> Path:
    return Path(str(resources.files("prag.demo") / "documents.jsonl"))


def questions() -> list[DemoQuestion]:
    text = (resources.files("prag.demo") / "questions.jsonl").read_text(encoding="utf-8")
    return [DemoQuestion(**json.loads(line)) for line in text.splitlines() if line.strip()]


def score_modes(
    ask_many: Callable[[list[str], Mode], list[Answer]],
    items: list[DemoQuestion],
    modes: list[Mode],
    on_answers: Callable[[int], None] | None = None,
) -> list[ModeScore]:
    """Every mode's answers to `items`, asked in batches (`Prag.ask_many`): a batch generates at once, so
    the demo answers in about half the time of one question at a time."""
    on_batch = (lambda batch: on_answers(len(batch))) if on_answers else None
    scores = []
    for mode in modes:
        answers = ask_many([item.question for item in items], mode, on_batch=on_batch)
        scores.append(_score(mode, items, answers))
    return scores


def _score(mode: Mode, items: list[DemoQuestion], answers: list[Answer]) -> ModeScore:
    em = [exact_match(a.text, q.answers) for q, a in zip(items, answers)]
    f1 = [f1_score(a.text, q.answers) for q, a in zip(items, answers)]
    para = [e for e, q in zip(em, items) if q.paraphrased]
    return ModeScore(
        mode=mode,
        em=100 * statistics.fmean(em),
        f1=100 * statistics.fmean(f1),
        latency=statistics.fmean(a.timings["total"] / a.batch_size for a in answers),
        em_paraphrased=100 * statistics.fmean(para) if para else 0.0,
    )


def run_demo(
    home: str | Path | None = None,
    model: str = DEFAULT_MODEL,
    progress: Progress = SilentProgress(),
    settings: Settings | None = None,
) -> list[ModeScore]:
    """Builds the bundled demo collection and scores every mode on its questions."""
    prag = Prag(home, collection="demo", model=model, settings=settings)
    prag.add([documents_file()])
    prag.build(progress)
    items = questions()
    advance = progress.stage("answer", len(items) * len(CORE_MODES))
    return score_modes(prag.ask_many, items, list(CORE_MODES), on_answers=advance)
