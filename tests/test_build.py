"""Build, resume, locking, status and answering, on the tiny random Llama (seconds, not minutes)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from prag import Mode, Prag, Settings
from prag.config import AugmentConfig, DEFAULT_RECIPE
from prag.errors import BusyError, InputError, ModelError, NotBuiltError
from prag.store.adapters import AdapterStore
from prag.store.locks import exclusive

FAST = Settings(
    recipe=replace(DEFAULT_RECIPE, epochs=1),
    augment=AugmentConfig(rewrite_tokens=16, qa_tokens_per_pair=8, max_attempts=2),
)


@pytest.fixture
def tiny(tiny_model_dir, facts_file) -> Prag:
    prag = Prag(model=str(tiny_model_dir), settings=FAST)
    prag.add([facts_file])
    return prag


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


def test_every_mode_answers_with_retrieved_documents_and_timings(tiny):
    tiny.build()
    for mode in Mode:
        answer = tiny.ask("When was Velmora founded?", mode, top_k=2)
        assert answer.mode is mode
        if mode.active:
            assert set(answer.timings) == {"retrieve", "generate", "total"} and set(answer.documents) <= {"velmora", "quillon", "brevik"}
            continue
        assert len(answer.documents) == (0 if mode is Mode.CLOSED else 2)
        assert set(answer.timings) == {"retrieve", "load", "merge", "generate", "total"}
    assert tiny.ask("When was Velmora founded?", "rag").documents[0] == "velmora"


def test_adapters_are_cached_in_memory(tiny):
    tiny.build()
    tiny.ask("When was Velmora founded?", "prag")
    reads = tiny.engine.adapters.disk_reads
    tiny.ask("When was Velmora founded?", "prag")
    assert reads == 3 and tiny.engine.adapters.disk_reads == reads


def test_bad_questions_modes_and_models_are_refused(tiny):
    tiny.build()
    with pytest.raises(InputError, match="unknown mode"):
        tiny.ask("Where?", "telepathy")
    with pytest.raises(InputError, match="empty"):
        tiny.ask("   ", "rag")
    with pytest.raises(InputError, match="top_k"):
        tiny.ask("Where?", "rag", top_k=0)
    with pytest.raises(ModelError, match="unknown model"):
        Prag(model="no-such-model").ask("Where?", "closed")


def test_asking_before_a_build_or_after_new_documents_says_to_build(tiny, tmp_path):
    with pytest.raises(NotBuiltError, match="prag build"):
        tiny.ask("When was Velmora founded?", "rag")
    tiny.build()
    (tmp_path / "more.txt").write_text("The Kessel Highlands are cold.")
    stale = Prag(model=tiny.model_spec, settings=FAST)
    stale.add([tmp_path / "more.txt"])
    with pytest.raises(NotBuiltError, match="changed since its last build"):
        stale.ask("Where is it cold?", "rag")
