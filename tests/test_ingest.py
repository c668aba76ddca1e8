"""Bad input gets a clear error and changes nothing; good input is added once."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from prag import Prag
from prag.api import MAX_COLLECTION_NAME_CHARS
from prag.cli.main import app
from prag.config import IngestConfig
from prag.errors import InputError, NotBuiltError
from prag.ingest import chunk, make_document, read_questions, read_text


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
    config = IngestConfig()
    doc = make_document(" ".join(str(i) for i in range(1001)), doc_id="d")
    pieces = chunk(doc, config.max_document_words, config.max_document_chars)
    assert " ".join(p.text for p in pieces).split() == doc.text.split()
    assert max(len(p.text.split()) for p in pieces) <= config.max_document_words


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


# Issue 19: inputs that used to raise a traceback, split a line, or slip past a limit.


@pytest.mark.parametrize("field", ["text", "title", "id"])
def test_a_lone_surrogate_is_refused_naming_line_field_and_position(tmp_path, field):
    record = {"text": "A fine text.", field: "x \udcff"}
    path = tmp_path / "docs.jsonl"
    path.write_text(json.dumps(record) + "\n")  # the JSON escape \udcff, as a client or a script writes it
    with pytest.raises(InputError, match=rf"docs.jsonl:1: document {field} has a lone surrogate U\+DCFF at character 3"):
        Prag().add([path])


def test_a_lone_surrogate_in_a_clients_document_is_refused():
    with pytest.raises(InputError, match=r"document 'd': document text has a lone surrogate U\+D800"):
        Prag().new_document("bad \ud800 text", doc_id="d")


@pytest.mark.parametrize("separator", ["\u2028", "\u2029", "\u0085", "\x1c", "\x1d", "\x1e"])
def test_a_line_separator_inside_a_json_string_is_text(tmp_path, separator):
    # Raw U+2028/U+2029/U+0085 are valid in JSON strings; str.splitlines() used to cut the line there.
    path = tmp_path / "docs.jsonl"
    path.write_text(f'{{"id": "a", "text": "one{separator}two"}}\r\n{{"id": "b", "text": "three"}}\n', encoding="utf-8")
    if separator < " ":  # control characters must be escaped in JSON: refused, but as bad JSON on line 1
        with pytest.raises(InputError, match="docs.jsonl:1: not valid JSON"):
            Prag().add([path])
        return
    Prag().add([path])
    assert [d.text for d in Prag().documents()] == [f"one{separator}two", "three"]


def test_a_question_holding_a_line_separator_is_one_question(tmp_path):
    path = tmp_path / "q.txt"
    path.write_text("Who founded\u2028Velmora?\r\nWhen\u000bwas it\u0085founded?\n", encoding="utf-8")
    assert read_questions(path) == ["Who founded\u2028Velmora?", "When\u000bwas it\u0085founded?"]
    jsonl = tmp_path / "q.jsonl"
    jsonl.write_text('{"question": "Who\u2028founded it?"}\n', encoding="utf-8")
    assert read_questions(jsonl) == ["Who\u2028founded it?"]


def test_json_nested_too_deeply_names_the_line(tmp_path):
    docs, questions = tmp_path / "deep.jsonl", tmp_path / "deep-q.jsonl"
    docs.write_text('{"text": "fine"}\n' + "[" * 100_000 + "\n")
    questions.write_text('{"question": "Who?"}\n{"question": ' + "[" * 100_000 + "\n")
    with pytest.raises(InputError, match="deep.jsonl:2: JSON nested too deeply"):
        Prag().add([docs])
    with pytest.raises(InputError, match="deep-q.jsonl:2: JSON nested too deeply"):
        read_questions(questions)


def test_a_huge_single_word_is_chunked_by_characters(tmp_path):
    config = IngestConfig()
    path = tmp_path / "big.txt"
    path.write_text("x" * 10 * 2**20 + "\n")  # 10 MiB, one "word": it used to become one document
    report = Prag().add([path])
    docs = Prag().documents()
    assert len(docs) == len(report.added) == -(-10 * 2**20 // config.max_document_chars)
    assert max(len(d.text) for d in docs) == config.max_document_chars
    assert "".join(d.text for d in docs) == "x" * 10 * 2**20
    assert "characters; split into" in report.notes[0]


def test_chunks_keep_both_bounds_and_every_character():
    config = IngestConfig(max_document_words=5, max_document_chars=12)
    words = ["a", "bb", "c" * 30, "dddd", "ee", "f", "gggggggggggg", "h"]
    pieces = chunk(make_document(" ".join(words), doc_id="d"), config.max_document_words, config.max_document_chars)
    assert all(len(p.text) <= 12 and len(p.text.split()) <= 5 for p in pieces)
    assert "".join(p.text.replace(" ", "") for p in pieces) == "".join(words)
    assert [p.id for p in pieces] == [f"d#{i}" for i in range(1, len(pieces) + 1)]


def test_a_clients_document_over_the_character_limit_is_refused():
    limit = IngestConfig().max_document_chars
    with pytest.raises(InputError, match=f"the limits are 400 words and {limit} characters"):
        Prag().new_document("y" * (limit + 1), doc_id="long")


@pytest.mark.parametrize("content", ["\ufeff", "\u200b", "\ufeff\u200b \u00a0\u3000\n", "\u2060\t\u200d"])
def test_invisible_only_text_is_empty(tmp_path, content):
    path = tmp_path / "invisible.txt"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(InputError, match="invisible.txt: document text is empty"):
        Prag().add([path])
    jsonl = tmp_path / "docs.jsonl"
    jsonl.write_text(json.dumps({"id": "\u200b", "text": "Visible."}) + "\n")
    with pytest.raises(InputError, match="docs.jsonl:1: document id is empty"):
        Prag().add([jsonl])


def test_a_leading_byte_order_mark_is_not_part_of_the_text(tmp_path):
    (tmp_path / "note.txt").write_bytes("\ufeffThe Arn River is long.".encode("utf-8"))
    (tmp_path / "docs.jsonl").write_bytes('\ufeff{"id": "a", "text": "Windows Notepad wrote this."}\n'.encode("utf-8"))
    Prag().add([tmp_path / "note.txt", tmp_path / "docs.jsonl"])
    assert [d.text for d in Prag().documents()] == ["The Arn River is long.", "Windows Notepad wrote this."]


def test_a_bad_byte_names_its_line(tmp_path):
    (tmp_path / "latin1.txt").write_bytes(b"first line\nsecond caf\xe9\n")
    with pytest.raises(InputError, match=r"latin1.txt:2: not valid UTF-8 \(byte 21\)"):
        Prag().add([tmp_path / "latin1.txt"])


def test_a_directory_is_named_as_one(tmp_path):
    (tmp_path / "docs.jsonl").mkdir()
    with pytest.raises(InputError, match="docs.jsonl: is a directory"):
        Prag().add([tmp_path / "docs.jsonl"])
    with pytest.raises(InputError, match="docs.jsonl: is a directory"):
        read_questions(tmp_path / "docs.jsonl")


def test_suffixes_are_read_in_any_case(tmp_path):
    write_jsonl(tmp_path / "A.JSONL", [{"id": "a", "text": "From upper-case JSONL."}])
    (tmp_path / "B.TXT").write_text("From upper-case TXT.")
    (tmp_path / "C.Md").write_text("From mixed-case MD.")
    report = Prag().add([tmp_path / "A.JSONL", tmp_path / "B.TXT", tmp_path / "C.Md"])
    assert len(report.added) == 3


def test_one_id_twice_names_both_lines(tmp_path):
    path = write_jsonl(tmp_path / "docs.jsonl", [{"id": "a", "text": "One."}, {"id": "b", "text": "Two."}, {"id": "a", "text": "Three."}])
    with pytest.raises(InputError, match=r"docs.jsonl:3: document id 'a' is also the id of .*docs.jsonl:1"):
        Prag().add([path])


def test_an_exact_repeat_is_added_once(tmp_path):
    path = write_jsonl(tmp_path / "docs.jsonl", [{"id": "a", "text": "One."}, {"id": "a", "text": "One."}])
    report = Prag().add([path])
    assert (report.added, report.unchanged) == (["a"], [])


# Chunk ids never take the id of another document.

LONG = " ".join(f"w{i}" for i in range(800))  # two chunks: x#1, x#2


def test_a_chunk_does_not_replace_an_earlier_document_with_its_id(tmp_path):
    prag = Prag()
    prag.add([write_jsonl(tmp_path / "first.jsonl", [{"id": "x#2", "text": "A real document."}])])
    long = write_jsonl(tmp_path / "long.jsonl", [{"id": "x", "text": LONG}])
    refusal = r"chunk 2 of document 'x' would replace document 'x#2' \(added from .*first.jsonl\).*give 'x' another id"
    with pytest.raises(InputError, match=refusal):
        prag.add([long])
    assert [(d.id, d.text) for d in prag.documents()] == [("x#2", "A real document.")]


def test_a_document_does_not_replace_an_earlier_chunk_with_its_id(tmp_path):
    prag = Prag()
    prag.add([write_jsonl(tmp_path / "long.jsonl", [{"id": "x", "text": LONG}])])
    later = write_jsonl(tmp_path / "later.jsonl", [{"id": "x#2", "text": "A real document."}])
    with pytest.raises(InputError, match=r"document 'x#2' would replace chunk 2 of document 'x'.*give 'x#2' another id"):
        prag.add([later])
    assert [d.id for d in prag.documents()] == ["x#1", "x#2"] and "A real document." not in prag.documents()[1].text


def test_a_chunk_and_a_document_with_one_id_in_one_call_are_refused(tmp_path):
    path = write_jsonl(tmp_path / "docs.jsonl", [{"id": "x#2", "text": "A real document."}, {"id": "x", "text": LONG}])
    with pytest.raises(InputError, match=r"docs.jsonl:2 \(chunk 2 of 'x'\): document id 'x#2' is also the id of .*docs.jsonl:1"):
        Prag().add([path])


def test_readding_a_long_document_replaces_its_own_chunks(tmp_path):
    prag = Prag()
    prag.add([write_jsonl(tmp_path / "v1.jsonl", [{"id": "x", "text": " ".join(f"old{i}" for i in range(1000))}])])
    assert [d.id for d in prag.documents()] == ["x#1", "x#2", "x#3"]
    report = prag.add([write_jsonl(tmp_path / "v2.jsonl", [{"id": "x", "text": LONG}])])
    assert report.added == ["x#1", "x#2"] and "removed 'x#3'" in report.notes[-1]
    assert [d.id for d in prag.documents()] == ["x#1", "x#2"] and "old" not in " ".join(d.text for d in prag.documents())
    short = prag.add([write_jsonl(tmp_path / "v3.jsonl", [{"id": "x", "text": "Now short."}])])
    assert short.added == ["x"] and [(d.id, d.text) for d in prag.documents()] == [("x", "Now short.")]
    prag.add([write_jsonl(tmp_path / "v4.jsonl", [{"id": "x", "text": LONG}])])
    assert [d.id for d in prag.documents()] == ["x#1", "x#2"]


# Question files are checked whole before any question is answered.


def test_a_question_over_the_limit_is_refused_with_its_line(tmp_path):
    path = tmp_path / "q.txt"
    path.write_text("Who founded Velmora?\n" + "Why " * 600 + "\n")
    with pytest.raises(InputError, match=r"q.txt:2: the question has 2399 characters; the limit is 2000"):
        read_questions(path)
    assert read_questions(path, max_chars=5_000)[1].startswith("Why")
    with pytest.raises(InputError, match="q.txt:1: the question has 20 characters; the limit is 10"):
        read_questions(path, max_chars=10)


@pytest.mark.parametrize("line", ['{"question": "   "}', '{"question": "\\u200b"}', '{"question": 3}', '{"q": "Who?"}'])
def test_a_blank_or_missing_json_question_is_refused_with_its_line(tmp_path, line):
    path = tmp_path / "q.jsonl"
    path.write_text(f'{{"question": "Who?"}}\n{line}\n')
    with pytest.raises(InputError, match=r"q.jsonl:2: expected a JSON object with a non-empty string field \"question\""):
        read_questions(path)


def test_a_lone_surrogate_in_a_json_question_is_refused(tmp_path):
    path = tmp_path / "q.jsonl"
    path.write_text('{"question": "Who \\udcff?"}\n')
    with pytest.raises(InputError, match=r"q.jsonl:1: the question has a lone surrogate U\+DCFF at character 5"):
        read_questions(path)


# Collection names become folder names.


def test_a_collection_name_over_the_limit_is_refused_before_anything_is_written(isolated_home):
    with pytest.raises(InputError, match="has 300 characters; the limit is 128"):
        Prag(collection="a" * 300)
    assert not isolated_home.exists()


def test_a_collection_name_at_the_limit_can_be_added_and_indexed(tiny_model_dir, facts_file):
    name = "n" * MAX_COLLECTION_NAME_CHARS
    prag = Prag(collection=name, model=str(tiny_model_dir))
    prag.add([facts_file])
    prag.build(encode=False, augment=False)  # the index is a staged folder under collections/<name>/
    assert prag.status().indexed


def test_the_cli_checks_a_whole_question_file_before_answering_any(tiny, tiny_model_dir, tmp_path):
    tiny.build(encode=False, augment=False)
    path = tmp_path / "q.txt"
    path.write_text("When was Velmora founded?\n" * 9 + "Why " * 600 + "\n")  # the bad one is in the second batch
    result = CliRunner().invoke(app, ["--model", str(tiny_model_dir), "ask", "--questions", str(path), "--mode", "rag"])
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert " ".join(result.output.split()).startswith(f"error: {path}:10: the question has 2399 characters")


def test_line_endings_do_not_change_a_document(tmp_path):
    (tmp_path / "unix.txt").write_bytes(b"The Arn River.\nIt is long.\n")
    (tmp_path / "windows.txt").write_bytes(b"The Arn River.\r\nIt is long.\r\n")
    (tmp_path / "old-mac.txt").write_bytes(b"The Arn River.\rIt is long.\r")
    docs = [make_document(read_text(tmp_path / name)) for name in ("unix.txt", "windows.txt", "old-mac.txt")]
    assert len({d.content_hash for d in docs}) == 1 and docs[0].text == "The Arn River.\nIt is long."
