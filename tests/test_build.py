"""`prag build`: augment, encode, resume, locking and status, on the tiny random Llama (seconds)."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from prag import Prag
from prag.config import Budget, parse_budget
from prag.errors import BusyError, InputError, NotBuiltError
from prag.store.adapters import AdapterStore
from prag.store.locks import exclusive

from .conftest import FAST


ORIGINAL_SAVE = AdapterStore.save


class Interrupted(BaseException):
    """Stands in for Ctrl-C or a kill in the middle of a build (pytest reserves KeyboardInterrupt)."""


def count_saves(monkeypatch, fail_on: int | None = None) -> list[str]:
    saved: list[str] = []

    def save(self, content_hash, *args, **kwargs):
        if fail_on is not None and len(saved) + 1 == fail_on:
            raise Interrupted
        saved.append(content_hash)
        return ORIGINAL_SAVE(self, content_hash, *args, **kwargs)

    monkeypatch.setattr(AdapterStore, "save", save)
    return saved


def test_build_augments_encodes_and_reports_status(tiny, monkeypatch):
    saved = count_saves(monkeypatch)
    report = tiny.build()
    assert (report.documents, report.augmented, report.encoded) == (3, 3, 3)
    assert len(saved) == 3
    status = tiny.status()
    assert (status.documents, status.augmented, status.encoded, status.indexed) == (3, 3, 3, True)
    assert status.adapter_bytes > 0
    row = tiny.catalog.db.execute("SELECT provenance, valid_pairs, attempts FROM augmentations").fetchone()
    assert '"model_fingerprint"' in row["provenance"] and 1 <= row["attempts"] <= 2


def test_a_known_document_is_never_trained_twice(tiny, tiny_model_dir, monkeypatch, tmp_path):
    tiny.build()
    saved = count_saves(monkeypatch)
    assert tiny.build().encoded == 0
    # The same text in another collection reuses the adapter: keyed by content, model and recipe.
    other = Prag(collection="other", model=str(tiny_model_dir), settings=FAST)
    other.add([tiny.home.parent / "facts.jsonl"])
    assert other.build().encoded == 0
    assert saved == []


def test_another_recipe_trains_its_own_adapters(tiny, tiny_model_dir, monkeypatch):
    tiny.build()
    saved = count_saves(monkeypatch)
    other = Prag(model=str(tiny_model_dir), settings=FAST.with_recipe(replace(FAST.recipe, learning_rate=1e-4)))
    assert other.build().encoded == 3 and len(saved) == 3


class RecordedSteps:
    """Progress that keeps each stage's steps."""

    def __init__(self):
        self.steps: dict[str, list[int]] = {}

    def stage(self, name: str, total: int):
        self.steps[name] = []
        return lambda n=1: self.steps[name].append(n)


def test_augmentation_is_counted_a_batch_at_a_time(tiny_model_dir, facts_file):
    # Documents of one batch finish together: counted one by one, a log's ETA would time the whole
    # first batch against one document.
    by_two = Prag(model=str(tiny_model_dir), settings=replace(FAST, augment=replace(FAST.augment, batch_size=2)))
    by_two.add([facts_file])
    progress = RecordedSteps()
    by_two.build(progress)
    assert progress.steps["augment"] == [2, 1]


def generations_of(generator, monkeypatch) -> list[int]:
    """Counts the prompts `generator` generates for."""
    prompts: list[int] = []
    original = generator.generate

    def generate(batch, *args, **kwargs):
        prompts.append(len(batch))
        return original(batch, *args, **kwargs)

    monkeypatch.setattr(generator, "generate", generate)
    return prompts


def test_another_model_can_write_the_augmentations(tiny, tiny_model_dir, other_tiny_model_dir, monkeypatch):
    by_other = Prag(model=str(tiny_model_dir), settings=replace(FAST, augment=replace(FAST.augment, model=str(other_tiny_model_dir))))
    runtime = by_other.runtime
    assert runtime.augment_fingerprint != runtime.model_fingerprint
    assert runtime.augment_key.startswith(runtime.augment_fingerprint) and runtime.augment_key != tiny.runtime.augment_key
    assert runtime.augment_generator is not runtime.generator
    by_writer, by_answerer = generations_of(runtime.augment_generator, monkeypatch), generations_of(runtime.generator, monkeypatch)
    report = by_other.build()
    assert (report.augmented, report.encoded) == (3, 3)
    assert sum(by_writer) >= 6 and by_answerer == []  # a rewrite and QA pairs per document, all by the writer
    provenance = json.loads(by_other.catalog.db.execute("SELECT provenance FROM augmentations").fetchone()[0])
    assert provenance["augment_model"] == str(other_tiny_model_dir) and provenance["model"] == str(tiny_model_dir)
    # Adapters stay the answering model's, keyed by what they learnt from: the answering model's own
    # augmentations are other data, so a build without the option augments and encodes again.
    mine, theirs = tiny.runtime.adapter_store.folder, by_other.runtime.adapter_store.folder
    assert mine.parent == theirs.parent and mine != theirs
    assert by_other.status().augment_model == str(other_tiny_model_dir) and tiny.status().augment_model == str(tiny_model_dir)
    assert tiny.status().augmented == 0
    report = tiny.build()
    assert (report.augmented, report.encoded) == (3, 3)


def test_an_interrupted_build_resumes_with_nothing_lost_or_duplicated(tiny, tiny_model_dir, monkeypatch):
    count_saves(monkeypatch, fail_on=2)
    try:
        tiny.build()
    except Interrupted:
        pass
    else:
        pytest.fail("the build was not interrupted")
    assert tiny.status().encoded == 1
    saved = count_saves(monkeypatch)
    resumed = Prag(model=str(tiny_model_dir), settings=FAST)
    report = resumed.build()
    assert report.augmented == 0  # augmentations were committed before the interruption
    assert report.encoded == 2 and len(saved) == len(set(saved)) == 2
    assert resumed.status().encoded == 3
    assert not list(resumed.runtime.adapter_store.folder.glob(".*.tmp"))  # no half-written adapter left behind


def test_a_second_build_at_once_is_refused(tiny):
    with exclusive(tiny.home / "collections" / "default" / "build.lock", "test"):
        with pytest.raises(BusyError, match="already running"):
            tiny.build()


def test_a_diverged_adapter_is_a_failed_document_never_a_file(tiny_model_dir, facts_file):
    """A learning rate of 1e36 drives the factors to inf and NaN: no such adapter is stored."""
    diverging = FAST.with_recipe(replace(FAST.recipe, learning_rate=1e36, epochs=3))
    prag = Prag(model=str(tiny_model_dir), settings=diverging)
    prag.add([facts_file])
    report = prag.build()
    assert report.encoded == 0 and set(report.failed) == {"velmora", "quillon", "brevik"}
    assert all("non-finite" in reason for reason in report.failed.values())
    assert prag.status().encoded == 0 and not list(prag.runtime.adapter_store.folder.parent.rglob("*.safetensors"))
    assert prag.build().failed.keys() == report.failed.keys()  # tried again, refused again


def test_a_budget_encodes_the_most_retrieved_documents_not_yet_encoded(tiny, monkeypatch):
    tiny.build(augment=False, encode=False)  # indexed
    tiny.builder.demand.add(tiny.collection, {"brevik": 3, "quillon": 1, "gone": 9})  # `gone`: no such document
    saved = count_saves(monkeypatch)
    report = tiny.build(budget=Budget(documents=1))
    assert report.chosen == ["brevik"] and (report.documents, report.augmented, report.encoded) == (3, 1, 1)
    assert tiny.status().augmented == 1  # the budget bounds augmentation too
    # Half of three documents rounds up to two: brevik is encoded already, so quillon, and velmora was
    # never retrieved, so it is left to be answered in context.
    report = tiny.build(budget=Budget(share=0.5))
    assert report.chosen == ["quillon"] and report.encoded == 1
    assert len(saved) == 2 and tiny.status().encoded == 2


def test_a_budget_by_a_query_log_retrieves_only(tiny_model_dir, facts_file):
    settings = replace(FAST, answer=replace(FAST.answer, top_k=1))
    prag = Prag(model=str(tiny_model_dir), settings=settings)
    prag.add([facts_file])
    log = ["Who founded Velmora, the town?", "When was Velmora founded?", "Who leads Quillon Dynamics?"]
    report = prag.build(budget=Budget(documents=1), questions=log)
    assert report.chosen == ["velmora"] and report.encoded == 1
    assert prag.builder.demand.totals(prag.collection) == {}  # a log chooses; it is not recorded as demand
    assert prag.build(budget=Budget(documents=5), questions=log).chosen == ["quillon"]


def test_a_budget_without_demand_says_what_to_do(tiny):
    with pytest.raises(NotBuiltError, match="no recorded retrievals.*--by-log"):
        tiny.build(budget=Budget(documents=2))
    with pytest.raises(InputError, match="give --budget too"):
        tiny.build(questions=["When was Velmora founded?"])


def test_budget_sizes_and_spellings():
    assert parse_budget("500") == Budget(documents=500) and parse_budget("5%") == Budget(share=0.05)
    assert Budget(share=0.05).size(101) == 6
    for bad in ("0", "-3", "0%", "150%", "many", "nan%"):
        with pytest.raises(InputError, match="--budget"):
            parse_budget(bad)
