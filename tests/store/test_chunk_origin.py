"""`documents.chunk_of`: a chunk knows the document it was cut from, so that its id never replaces another
document's, and a re-added document replaces exactly its own earlier pieces."""

from __future__ import annotations

import pytest

from prag.errors import InputError
from prag.store.catalog import Catalog
from prag.store.db import connect
from prag.types import Document


@pytest.fixture
def catalog(tmp_path):
    db = connect(tmp_path / "catalog.db")
    yield Catalog(db)
    db.close()


def doc(doc_id: str, text: str | None = None) -> Document:
    return Document(id=doc_id, text=text if text is not None else f"text of {doc_id}")


def chunks(parent: str, count: int, version: str = "") -> tuple[list[Document], dict[str, str]]:
    docs = [doc(f"{parent}#{i}", f"{version}piece {i} of {parent}") for i in range(1, count + 1)]
    return docs, {d.id: parent for d in docs}


def stored(catalog: Catalog) -> list[tuple[str, str | None]]:
    return [(r["id"], r["chunk_of"]) for r in catalog.db.execute("SELECT id, chunk_of FROM documents ORDER BY seq")]


def test_chunks_record_their_document(catalog):
    docs, origin = chunks("x", 2)
    catalog.add_documents("c", [doc("y"), *docs], "test", origin)
    assert stored(catalog) == [("y", None), ("x#1", "x"), ("x#2", "x")]


def test_a_chunk_may_not_take_a_documents_id(catalog):
    catalog.add_documents("c", [doc("x#2")], "first.jsonl")
    docs, origin = chunks("x", 2)
    with pytest.raises(InputError, match=r"^chunk 2 of document 'x' would replace document 'x#2' \(added from first.jsonl\)"):
        catalog.add_documents("c", docs, "long.jsonl", origin)
    assert stored(catalog) == [("x#2", None)]


def test_a_document_may_not_take_a_chunks_id_even_with_the_same_text(catalog):
    docs, origin = chunks("x", 2)
    catalog.add_documents("c", docs, "long.jsonl", origin)
    with pytest.raises(InputError, match=r"^document 'x#2' would replace chunk 2 of document 'x'"):
        catalog.add_documents("c", [doc("x#2", docs[1].text)], "later.jsonl")
    assert stored(catalog) == [("x#1", "x"), ("x#2", "x")]


def test_the_same_chunks_again_are_unchanged(catalog):
    docs, origin = chunks("x", 2)
    catalog.add_documents("c", docs, "a", origin)
    again = catalog.add_documents("c", docs, "a", origin)
    assert (again.added, again.unchanged, again.removed) == ([], ["x#1", "x#2"], [])


def test_fewer_chunks_remove_the_rest(catalog):
    docs, origin = chunks("x", 3)
    catalog.add_documents("c", [doc("keep"), *docs], "v1", origin)
    docs, origin = chunks("x", 2, version="new ")
    result = catalog.add_documents("c", docs, "v2", origin)
    assert (result.added, result.removed) == (["x#1", "x#2"], ["x#3"])
    assert stored(catalog) == [("keep", None), ("x#1", "x"), ("x#2", "x")]


def test_a_whole_document_and_its_chunks_replace_each_other(catalog):
    catalog.add_documents("c", [doc("x")], "v1")
    docs, origin = chunks("x", 2)
    assert catalog.add_documents("c", docs, "v2", origin).removed == ["x"]
    assert catalog.add_documents("c", [doc("x")], "v3").removed == ["x#1", "x#2"]
    assert stored(catalog) == [("x", None)]


def test_the_chunks_of_a_document_named_like_a_chunk_leave_that_chunk_alone(catalog):
    docs, origin = chunks("x", 2)
    catalog.add_documents("c", docs, "a", origin)
    nested, nested_origin = chunks("x#2", 2)  # a long document whose own id is "x#2"
    result = catalog.add_documents("c", nested, "b", nested_origin)
    assert result.removed == [] and [i for i, _ in stored(catalog)] == ["x#1", "x#2", "x#2#1", "x#2#2"]


def test_collections_are_separate(catalog):
    catalog.add_documents("one", [doc("x#2")], "a")
    docs, origin = chunks("x", 2)
    catalog.add_documents("two", docs, "b", origin)
    assert catalog.documents("one") == [doc("x#2")]


def test_chunks_stored_without_an_origin_are_taken_back_by_their_own_file(catalog):
    """A catalogue written before origins were recorded holds its chunks with none: adding the same file
    again keeps them (and records their origin), while another file's chunk still may not take them."""
    docs, origin = chunks("x", 2)
    catalog.add_documents("c", docs, "docs.jsonl")  # as stored before: no origins
    assert catalog.add_documents("c", docs, "docs.jsonl", origin).unchanged == ["x#1", "x#2"]
    assert stored(catalog) == [("x#1", "x"), ("x#2", "x")]
    catalog.add_documents("d", [doc("y#2")], "mine.jsonl")
    other, other_origin = chunks("y", 2)
    with pytest.raises(InputError, match="would replace document 'y#2'"):
        catalog.add_documents("d", other, "theirs.jsonl", other_origin)
