"""A resumable evaluation run over one benchmark: every question × method, appended to predictions.jsonl
as batches finish, so an interrupted run redoes at most one batch."""

from __future__ import annotations

import json
from dataclasses import MISSING, asdict, dataclass, fields
from pathlib import Path
from typing import Callable

from prag.errors import DamagedError, InputError
from prag.eval.datasets import Example
from prag.eval.records import init_key, prediction_row, recall_row, row_key
from prag.progress import Progress
from prag.store.files import append_jsonl, read_json_object, read_jsonl, write_json_atomic
from prag.types import Answer, Document, Mode

METHODS = tuple(m.value for m in Mode if m.benchmarked)
"""In the paper's table order: baselines first, then P-RAG and Combine Both."""

PREDICTIONS = "predictions.jsonl"
RETRIEVAL = "retrieval.jsonl"
RUN = "run.json"


@dataclass(frozen=True)
class RunIdentity:
    """What must match for a rerun to add to an existing folder rather than mix two experiments."""

    dataset: str
    data_sha256: str
    corpus_sha256: str
    corpus_digest: str
    """The documents as indexed: a loader that reads the same file into other passages makes stored
    retrievals and answers stale."""
    model: str
    model_fingerprint: str
    prompt: str
    top_k: int
    augment_hash: str
    recipe: dict
    """The recipe without its initialisation, which rows record themselves."""
    aliases_sha256: str
    """2Wiki's id_aliases.json beside the data file, which adds golds ("" when there is none)."""
    answer_digest: str
    """The answer prompt as rendered, its worked examples and the generation settings (the merge among them)."""
    merge: str
    """How the retrieved adapters were combined (`sum` is the paper's), as reports print it."""
    questions: str
    """`first` for the first N questions (a later run may extend the folder to more), or `START:END` for a
    slice: a dev slice and a test slice never share a folder, so no report mixes them."""
    retrieval: str = "bm25"
    """How the top-k were found (`config.RETRIEVALS`); stored retrievals are of this kind."""
    elicit: bool = False
    """Whether an answer that stopped without stating itself was led on to state it (`--elicit`): the answer
    digest holds it too, but only this field lets a reader of the folder see it."""
    at_once: bool = False
    """Whether a chain of thought's answer was stated at once, with no reasoning generated (`--at-once`)."""


LATER_RUN_FIELDS = {f.name: f.default for f in fields(RunIdentity) if f.default is not MISSING}
"""Identity fields added after folders were first kept, those with a default (name -> the value they then
had): a folder written before one existed reads as having had its default, so kept folders stay readable
and resumable."""


def parse_methods(text: str) -> list[Mode]:
    names = [m.strip() for m in text.split(",") if m.strip()]
    unknown = [m for m in names if m not in METHODS]
    if unknown or not names:
        raise InputError(f"unknown method(s) {unknown or text!r}; choose from {', '.join(METHODS)}")
    return [Mode(m) for m in METHODS if m in names]


def open_run_folder(out: Path, identity: RunIdentity) -> None:
    """Creates the folder, or checks that an existing one holds the same experiment."""
    path = out / RUN
    if path.is_file():
        stored = read_run(out)
        mine = json.loads(json.dumps(asdict(identity)))  # tuples come back from JSON as lists
        differs = differing_fields(stored, mine)
        if differs:
            raise InputError(f"{out} holds a run with different {', '.join(differs)}; choose another --out folder")
        return
    write_json_atomic(path, asdict(identity))


def differing_fields(stored: dict, other: dict) -> list[str]:
    """The identity fields in which run `other` differs from `stored`, sorted."""
    return sorted(k for k in other if stored.get(k) != other[k])


def read_run(out: Path) -> dict:
    """A folder's run.json; a folder written by an older prag (missing fields) or damaged is a one-line error."""
    path = out / RUN
    if not path.is_file():
        raise InputError(f"{out} is not an evaluation folder (no {RUN})")
    try:
        stored = read_json_object(path, f"evaluation folder {out}")
    except DamagedError as e:  # the folder, not prag's home, is what to replace
        raise InputError(f"{e}: evaluate into another --out folder") from None
    stored = {**LATER_RUN_FIELDS, **stored}
    missing = [name for name in RunIdentity.__dataclass_fields__ if name not in stored]
    if missing:
        raise InputError(f"{out} was written by an older prag (no {', '.join(missing)} in {RUN}): evaluate into another --out folder")
    return stored


class Evaluation:
    def __init__(
        self,
        out: Path,
        examples: list[Example],
        answer: Callable[[list[str], Mode], list[Answer]],
        batch_size: int,
        cot: bool,
        provenance: dict,
    ):
        self.out = out
        self.examples = examples
        self.answer = answer
        self.batch_size = batch_size
        self.cot = cot
        self.provenance = provenance

    def record_retrieval(self, retrieve: Callable[[str], list[Document]], indexed: set[str]) -> dict[str, list[str]]:
        """BM25 top-k of every question, written once per question; returns id -> retrieved ids.
        `indexed`: the ids of the corpus searched."""
        path = self.out / RETRIEVAL
        known = {row["id"]: row["retrieved"] for row in read_jsonl(path)}
        new = [recall_row(e, [d.id for d in retrieve(e.question)], indexed) for e in self.examples if e.id not in known]
        if new:
            append_jsonl(path, new)
            known.update({row["id"]: row["retrieved"] for row in new})
        return {e.id: known[e.id] for e in self.examples}

    def todo(self, mode: Mode, init: str) -> list[Example]:
        rows = read_jsonl(self.out / PREDICTIONS)
        if mode.uses_adapters:
            self._check_same_adapters(rows, mode, init)
        done = {row_key(row) for row in rows}
        return [e for e in self.examples if (e.id, mode.value, init_key(mode, init)) not in done]

    def _check_same_adapters(self, rows: list[dict], mode: Mode, init: str) -> None:
        """A retrained warm-up LoRA makes other adapters under the same init, and adapters encoded since
        change a `+shared` merge's estimate: such rows must not join the old."""
        same = [r for r in rows if r["method"] == mode.value and r["init"] == init]
        mine = self.provenance["recipe_hash"]
        other = {r["recipe_hash"] for r in same} - {mine}
        if other:
            raise InputError(
                f"{self.out} holds {mode.value} rows ({init} init) made with other adapters (recipe {', '.join(sorted(other))}, "
                f"this run's is {mine}): choose another --out folder"
            )
        shared = self.provenance.get("shared_component")
        if any(r.get("shared_component") != shared for r in same):
            raise InputError(
                f"{self.out} holds {mode.value} rows ({init} init) merged with a shared part estimated from other adapters "
                f"(this run's: {json.dumps(shared)}; more were encoded since): choose another --out folder"
            )

    def run(
        self, modes: list[Mode], init: str, progress: Progress, answer: Callable[[list[str], Mode], list[Answer]] | None = None
    ) -> int:
        """Answers every question not yet answered by each method (with `answer` in place of the run's own,
        as a control does); returns how many rows were added."""
        answer = answer or self.answer
        added = 0
        for mode in modes:
            todo = self.todo(mode, init)
            advance = progress.stage(mode.value, len(todo))
            for start in range(0, len(todo), self.batch_size):
                batch = todo[start : start + self.batch_size]
                answers = answer([e.question for e in batch], mode)
                rows = [prediction_row(e, a, init, self.cot, self.provenance) for e, a in zip(batch, answers)]
                append_jsonl(self.out / PREDICTIONS, rows)
                added += len(rows)
                advance(len(rows))
        return added
