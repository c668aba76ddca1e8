"""Bad input gets a clear error and changes nothing; good input is added once."""

from __future__ import annotations

import json

import pytest

from prag import Prag
from prag.config import IngestConfig
from prag.errors import InputError, NotBuiltError
from prag.ingest import chunk, make_document, read_questions


def write_jsonl(path, rows):
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows))
    return path


def test_jsonl_txt_and_md_are_added_and_readding_is_a_noop(tmp_path, facts_file):
    (tmp_path / "note.md").write_text("# Notes\nThe Arn River is 412 kilometres long.\n")
    prag = Prag()
    first = prag.add([facts_file, tmp_path / "note.md"])
    assert len(first.added) == 4
    again = prag.add([facts_file, tmp_path / "note.md"])
    assert again.added == [] and len(again.unchanged) == 4
    assert len(prag.documents()) == 4


def test_default_id_is_a_content_hash(tmp_path):
    path = write_jsonl(tmp_path / "a.jsonl", [{"text": "Same text."}])
    prag = Prag()
    prag.add([path])
    doc = prag.documents()[0]
    assert doc.id == make_document("Same text.").id and len(doc.id) == 16


@pytest.mark.parametrize(
    "bad_line, message",
    [
        ("{not json", "not valid JSON"),
        (json.dumps({"title": "no text"}), 'missing field "text"'),
        (json.dumps({"text": "   "}), "empty"),
        (json.dumps({"text": 3}), "must be a string"),
        (json.dumps(["a list"]), "JSON object"),
        (json.dumps({"text": "x", "colour": "red"}), "unknown field"),
    ],
)
def test_a_bad_line_names_file_and_line_and_adds_nothing(tmp_path, bad_line, message):
    path = write_jsonl(tmp_path / "docs.jsonl", [{"text": "A fine first document."}, bad_line])
    prag = Prag()
    with pytest.raises(InputError, match=message) as error:
        prag.add([path])
    assert f"{path}:2" in str(error.value)
    assert not prag.catalog.has_collection("default")


def test_one_bad_file_among_good_ones_adds_nothing(tmp_path, facts_file):
    (tmp_path / "empty.txt").write_text("  \n\t ")
    prag = Prag()
    with pytest.raises(InputError, match="empty"):
        prag.add([facts_file, tmp_path / "empty.txt"])
    assert not prag.catalog.has_collection("default")


def test_non_utf8_and_unknown_types_are_refused(tmp_path):
    (tmp_path / "latin1.txt").write_bytes("caf\xe9".encode("latin-1"))
    (tmp_path / "doc.pdf").write_bytes(b"%PDF")
    with pytest.raises(InputError, match="UTF-8"):
        Prag().add([tmp_path / "latin1.txt"])
    with pytest.raises(InputError, match="unsupported file type"):
        Prag().add([tmp_path / "doc.pdf"])
    with pytest.raises(InputError, match="no such file"):
        Prag().add([tmp_path / "missing.jsonl"])


def test_long_documents_are_chunked_and_the_user_is_told(tmp_path):
    words = " ".join(f"w{i}" for i in range(1000))
    path = write_jsonl(tmp_path / "long.jsonl", [{"id": "long", "text": words}])
    report = Prag().add([path])
    assert report.added == ["long#1", "long#2", "long#3"]
    assert "split into 3 chunks" in report.notes[0]


def test_chunks_cover_every_word_once():
    doc = make_document(" ".join(str(i) for i in range(1001)), doc_id="d")
    pieces = chunk(doc, IngestConfig().max_document_words)
    assert " ".join(p.text for p in pieces).split() == doc.text.split()
    assert max(len(p.text.split()) for p in pieces) <= IngestConfig().max_document_words


def test_invalid_collection_names_and_missing_collections():
    with pytest.raises(InputError, match="invalid collection name"):
        Prag(collection="../etc")
    with pytest.raises(NotBuiltError, match="does not exist"):
        Prag(collection="nothing-here").ask("Where is Velmora?", "rag")


def test_question_files_are_plain_lines_or_jsonl(tmp_path):
    plain = tmp_path / "q.txt"
    plain.write_text("Who founded Velmora?\n\n  When?  \n")
    assert read_questions(plain) == ["Who founded Velmora?", "When?"]
    jsonl = tmp_path / "q.jsonl"
    jsonl.write_text('{"question": "Who?", "answers": ["x"]}\n{"question": ""}\n')
    with pytest.raises(InputError, match=r"q.jsonl:2: .*\"question\""):
        read_questions(jsonl)
    empty = tmp_path / "empty.txt"
    empty.write_text("\n \n")
    with pytest.raises(InputError, match="no questions"):
        read_questions(empty)
