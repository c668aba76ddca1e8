"""`prag warmup` and `prag eval --init warmup`: the paper's warm-up LoRA (Table 2), trained on a
benchmark's questions outside the evaluated slice, and the check that it stays outside."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from prag.api import Prag
from prag.config import Settings
from prag.encode import train_warmup, warmup_recipe
from prag.errors import InputError
from prag.eval import datasets
from prag.eval.datasets import Example
from prag.model import loader
from prag.store.files import sha256_file
from prag.text import normalize_answer
from prag.types import QAPair, content_hash


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
    settings: Settings | None = None,
    retrain: bool = False,
    prompt: str | None = None,
) -> WarmupResult:
    """Trains the warm-up LoRA on `count` questions after the first `skip_first` (the evaluated slice is
    never among them) and names it after the dataset. One already trained on the same questions with the
    same model and recipe is kept, as document adapters are, unless `retrain`. `prompt` is the one `prag
    eval` will ask in (default: the dataset's): a recipe trained in the answer prompt trains the warm-up
    in it too, and the evaluation finds the warm-up under that recipe."""
    if skip_first < 0 or count < 1:
        raise InputError("--skip-first must be >= 0 and --count >= 1")
    examples = datasets.load(dataset, data).examples[skip_first : skip_first + count]
    if not examples:
        raise InputError(f"{data} has no questions after the first {skip_first}")
    settings = settings or Settings.for_model(model)
    settings = replace(settings, answer=datasets.asked_as(settings.answer, dataset, prompt))
    runtime = Prag(home, collection="warmup", model=model, settings=settings).runtime
    source = {
        "dataset": dataset,
        "data_sha256": sha256_file(data),
        "questions": [skip_first, skip_first + len(examples)],
        "question_hashes": sorted(question_hashes(examples)),
    }
    known = None if retrain else runtime.warmups.find(dataset, settings.recipe, source)
    if known:
        return WarmupResult(known, trained=False)
    pairs = [QAPair(e.question, e.golds[0]) for e in examples]
    evidence = [" ".join(e.evidence) for e in examples]
    if settings.recipe.warmup_target == "evidence" and not any(evidence):
        raise InputError(f"{data} names no supporting sentences: train the warm-up with warmup_target=answer")
    adapter = train_warmup(runtime.encoding_generator, pairs, settings.recipe, evidence)
    recipe = warmup_recipe(settings.recipe)
    meta = runtime.adapter_meta(recipe, warmup=dataset, pairs=len(pairs), **source)
    digest = runtime.warmups.save(dataset, settings.recipe, adapter, runtime.peft_config(recipe), meta, source)
    return WarmupResult(digest, trained=True)


def with_warmup(prag: Prag, dataset: str, evaluated: list[Example]) -> Prag:
    """The same collection with document adapters that start from the dataset's warm-up LoRA, which must
    not have seen any evaluated question."""
    record = prag.runtime.warmups.record(dataset, prag.settings.recipe)
    # Compared by question text, not position: another file of the same benchmark (the official dev
    # set and its 500-question sample) shares questions under other indices.
    seen = question_hashes(evaluated) & set(record["question_hashes"])
    if seen:
        first, end = record["questions"]
        raise InputError(
            f"the warm-up LoRA was trained on {len(seen)} of the {len(evaluated)} evaluated questions (it used questions "
            f"{first}..{end - 1} of its file): retrain it with `prag warmup` on questions outside the evaluated slice"
        )
    recipe = replace(prag.settings.recipe, init="warmup", warmup=record["digest"])
    return Prag(prag.home, prag.collection, prag.model_spec, prag.settings.with_recipe(recipe))


def question_hashes(examples: list[Example]) -> set[str]:
    return {content_hash(normalize_answer(e.question))[:16] for e in examples}
