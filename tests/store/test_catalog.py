"""Documents and augmentations per collection in the SQLite catalogue."""

from __future__ import annotations

import sqlite3

import pytest

from prag.errors import NotBuiltError
from prag.store.catalog import Catalog
from prag.store.db import connect
from prag.types import Augmentation, Document, QAPair


@pytest.fixture
def catalog(tmp_path):
    db = connect(tmp_path / "catalog.db")
    yield Catalog(db)
    db.close()


def doc(doc_id: str, text: str | None = None, title: str = "") -> Document:
    return Document(id=doc_id, text=text if text is not None else f"text of {doc_id}", title=title)


def augmentation() -> Augmentation:
    return Augmentation(
        rewrites=("a rewrite", "another rewrite"),
        qa_pairs=(QAPair("Who?", "Ada"), QAPair("When?", "1843")),
        attempts=2,
    )


def test_added_documents_come_back_in_insertion_order(catalog):
    result = catalog.add_documents("c", [doc("b"), doc("a"), doc("c")], source="test")
    catalog.add_documents("c", [doc("0")], source="test")
    assert result.added == ["b", "a", "c"] and result.unchanged == []
    assert [d.id for d in catalog.documents("c")] == ["b", "a", "c", "0"]


def test_a_document_round_trips_its_title_and_text(catalog):
    catalog.add_documents("c", [doc("x", "the text", title="The Title")], source="test")
    assert catalog.document("c", "x") == Document(id="x", text="the text", title="The Title")
    assert catalog.document("c", "missing") is None


def test_add_documents_is_all_or_nothing(catalog):
    # A NULL title breaks the NOT NULL constraint on the second insert, after the first succeeded.
    bad = Document(id="bad", text="t", title=None)  # type: ignore[arg-type]
    with pytest.raises(sqlite3.IntegrityError):
        catalog.add_documents("c", [doc("good"), bad], source="test")
    assert catalog.documents("c") == []
    assert not catalog.has_collection("c")


def test_a_failed_add_keeps_the_previous_content(catalog):
    catalog.add_documents("c", [doc("x", "old")], source="test")
    with pytest.raises(AttributeError):
        catalog.add_documents("c", [doc("x", "new"), object()], source="test")  # type: ignore[list-item]
    assert catalog.document("c", "x").text == "old"
    assert len(catalog.documents("c")) == 1


def test_re_adding_the_same_content_is_unchanged(catalog):
    catalog.add_documents("c", [doc("x"), doc("y")], source="test")
    result = catalog.add_documents("c", [doc("x"), doc("z")], source="test")
    assert result.added == ["z"] and result.unchanged == ["x"]
    assert [d.id for d in catalog.documents("c")] == ["x", "y", "z"]


def test_the_same_id_with_new_content_replaces_it(catalog):
    old = doc("x", "old")
    catalog.add_documents("c", [old], source="test")
    result = catalog.add_documents("c", [doc("x", "new")], source="test")
    assert result.added == ["x"] and result.unchanged == []
    assert [d.text for d in catalog.documents("c")] == ["new"]
    assert not catalog.hash_in_use(old.content_hash)


def test_collections_keep_their_documents_apart(catalog):
    catalog.add_documents("one", [doc("x", "first")], source="test")
    catalog.add_documents("two", [doc("x", "second")], source="test")
    assert catalog.document("one", "x").text == "first"
    assert catalog.document("two", "x").text == "second"


def test_augmentations_round_trip_by_hash_and_key(catalog):
    aug = augmentation()
    catalog.put_augmentation("h1", "k1", aug, provenance={"model": "m"})
    assert catalog.get_augmentation("h1", "k1") == aug
    assert catalog.get_augmentation("h1", "k2") is None
    assert catalog.get_augmentation("h2", "k1") is None


def test_an_augmentation_records_its_valid_pairs_and_provenance(catalog):
    catalog.put_augmentation("h1", "k1", augmentation(), provenance={"b": 1, "a": 2})
    row = catalog.db.execute("SELECT valid_pairs, provenance FROM augmentations").fetchone()
    assert row["valid_pairs"] == 2
    assert row["provenance"] == '{"a": 2, "b": 1}'


def test_putting_an_augmentation_again_replaces_it(catalog):
    catalog.put_augmentation("h1", "k1", augmentation(), provenance={})
    newer = Augmentation(rewrites=("r",), qa_pairs=(), attempts=3)
    catalog.put_augmentation("h1", "k1", newer, provenance={})
    assert catalog.get_augmentation("h1", "k1") == newer


def test_augmented_hashes_and_delete_augmentations(catalog):
    catalog.put_augmentation("h1", "k1", augmentation(), provenance={})
    catalog.put_augmentation("h1", "k2", augmentation(), provenance={})
    catalog.put_augmentation("h2", "k1", augmentation(), provenance={})
    assert catalog.augmented_hashes("k1") == {"h1", "h2"}
    catalog.delete_augmentations("h1")
    assert catalog.augmented_hashes("k1") == {"h2"}
    assert catalog.augmented_hashes("k2") == set()


def test_hash_in_use_looks_across_collections(catalog):
    shared = doc("x", "shared text")
    catalog.add_documents("one", [shared], source="test")
    catalog.add_documents("two", [doc("y", "shared text")], source="test")
    catalog.delete_document("one", "x")
    assert catalog.hash_in_use(shared.content_hash)
    catalog.delete_document("two", "y")
    assert not catalog.hash_in_use(shared.content_hash)


def test_delete_document_returns_its_hash_or_none(catalog):
    x = doc("x")
    catalog.add_documents("c", [x, doc("y")], source="test")
    assert catalog.delete_document("c", "x") == x.content_hash
    assert catalog.delete_document("c", "x") is None
    assert catalog.delete_document("c", "missing") is None
    assert [d.id for d in catalog.documents("c")] == ["y"]


def test_require_collection_raises_a_helpful_not_built_error(catalog):
    with pytest.raises(NotBuiltError, match=r"'nowhere'.*prag add"):
        catalog.require_collection("nowhere")
    catalog.ensure_collection("nowhere")
    catalog.require_collection("nowhere")
    assert catalog.has_collection("nowhere")
