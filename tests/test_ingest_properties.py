"""Property tests of the ingest readers: whatever a file holds, reading it yields valid documents or
questions, or raises prag's `InputError` with a one-line message naming the file — never anything else.

Files are written as a user's tools write them: JSON lines (ASCII escapes or raw characters, lone
surrogates included), raw text, separators that `str.splitlines()` would split at, deep nesting, a BOM.
"""

from __future__ import annotations

import json
import re
import tempfile
from pathlib import Path
from typing import Callable, TypeVar

from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st

from prag import Prag
from prag.config import IngestConfig, Settings
from prag.errors import InputError
from prag.ingest import Ingested, read_files, read_questions, visible

CONFIG = IngestConfig(max_document_words=6, max_document_chars=40)
"""Small bounds, so that generated documents are chunked by words and by characters."""

MAX_QUESTION_CHARS = 60
T = TypeVar("T")

TRICKY = ["\u2028", "\u2029", "\x85", "\x0b", "\x0c", "\x1c", "\r", "\n", "\ufeff", "\u200b", "\udcff", "\ud800", "#", "2", " "]
"""Line and paragraph separators, invisible characters, lone surrogates, and the chunk-id mark."""

characters = st.characters(codec=None, exclude_categories=()) | st.sampled_from(TRICKY)  # surrogates included
repeated_words = st.builds(lambda w, n: " ".join([w] * n), st.text(characters, min_size=1, max_size=12), st.integers(1, 12))
texts = st.text(characters, max_size=60) | repeated_words  # the second, long enough to be chunked
scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | texts
json_values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(texts, inner, max_size=3), max_leaves=8)
documents = st.fixed_dictionaries({"text": texts}, optional={"id": texts, "title": texts})
questions = st.fixed_dictionaries({"question": texts}, optional={"answers": json_values})
fields = st.sampled_from(["id", "title", "text", "question"])
any_records = st.dictionaries(fields, texts | json_values, max_size=4) | json_values
"""Objects with and without the fields, fields of the wrong type, other JSON values, nesting."""
deeply_nested = st.builds(lambda depth, bracket: bracket * depth, st.integers(900, 100_000), st.sampled_from(["[", '{"text": ']))


@st.composite
def json_line(draw, well_formed) -> str:
    """Mostly well-formed records (so that whole files get accepted too), sometimes anything at all."""
    kind = draw(st.sampled_from(["well-formed"] * 12 + ["any", "deep", "raw"]))
    if kind == "deep":
        return draw(deeply_nested)
    if kind == "raw":
        return draw(texts)
    # ensure_ascii: a lone surrogate as the escape \udcff, or else raw (then the file is not UTF-8).
    return json.dumps(draw(well_formed if kind == "well-formed" else any_records), ensure_ascii=draw(st.booleans()))


@st.composite
def file_content(draw, line) -> str:
    lines = draw(st.lists(line, max_size=5))
    ending = draw(st.sampled_from(["\n", "\r\n"]))
    bom = draw(st.sampled_from(["", "\ufeff"]))
    return bom + ending.join(lines) + draw(st.sampled_from(["", ending]))


def write(folder: Path, name: str, content: str) -> Path:
    path = folder / name
    # surrogatepass: a raw lone surrogate becomes the bytes a careless encoder writes (invalid UTF-8).
    path.write_text(content, encoding="utf-8", errors="surrogatepass", newline="")
    return path


def read_or_refuse(read: Callable[[Path], T], folder: str, name: str, content: str) -> T | None:
    """What `read` makes of the file, or None when it refused it with a one-line `InputError` naming the file
    (any other exception fails the test)."""
    path = write(Path(folder), name, content)
    try:
        result = read(path)
    except InputError as e:
        message = str(e)
        assert message and "\n" not in message and "\r" not in message, message
        assert str(path) in message, message
        event("refused", re.match(r"[:\d]*[ (]*([a-zA-Z \"(),-]*)", message.removeprefix(str(path))).group(1)[:50])
        return None
    event("accepted")
    return result


def read_documents(path: Path) -> Ingested:
    return read_files([path], CONFIG)


def assert_valid_documents(documents) -> None:
    assert len({d.id for d in documents}) == len(documents)
    for doc in documents:
        for value in (doc.id, doc.title, doc.text):
            value.encode("utf-8")  # no lone surrogate reaches the catalogue
        assert visible(doc.text) and visible(doc.id)
        assert len(doc.text.split()) <= CONFIG.max_document_words and len(doc.text) <= CONFIG.max_document_chars


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(content=file_content(json_line(documents)), suffix=st.sampled_from([".jsonl", ".JSONL", ".Jsonl"]))
@example(content='{"text": "x \\udcff"}\n', suffix=".jsonl")  # issue 19: a traceback (UnicodeEncodeError)
@example(content='{"text": "one\u2028two"}\n', suffix=".jsonl")  # issue 19: valid JSON refused
@example(content="[" * 100_000, suffix=".jsonl")  # issue 19: RecursionError
@example(content='{"id": "x#2", "text": "a"}\n{"id": "x", "text": "a b c d e f g"}\n', suffix=".jsonl")  # a chunk id taken
@example(content='{"text": "\ufeff\u200b"}\n', suffix=".JSONL")  # invisible text; an upper-case suffix
def test_any_jsonl_file_gives_documents_or_a_clear_input_error(content, suffix):
    with tempfile.TemporaryDirectory() as folder:
        ingested = read_or_refuse(read_documents, folder, f"docs{suffix}", content)
        if ingested is None:
            return
        assert ingested.documents
        assert_valid_documents(ingested.documents)
        assert set(ingested.chunk_of) <= {d.id for d in ingested.documents}


@settings(max_examples=150, deadline=None)
@given(content=file_content(texts), suffix=st.sampled_from([".txt", ".md", ".TXT", ".Md"]))
@example(content="\ufeff", suffix=".txt")  # issue 19: a BOM alone was a document
@example(content="x" * 200, suffix=".txt")  # issue 19: one long word was one document, whatever its length
@example(content="a " + "\x1b " * 12, suffix=".txt")  # found here: a chunk of control characters alone
def test_any_text_file_gives_one_document_or_chunks_or_a_clear_input_error(content, suffix):
    with tempfile.TemporaryDirectory() as folder:
        ingested = read_or_refuse(read_documents, folder, f"note{suffix}", content)
        if ingested is None:
            return
        assert_valid_documents(ingested.documents)
        # Chunking keeps every visible character, in order.
        assert [ch for d in ingested.documents for ch in d.text if visible(ch)] == [ch for ch in content if visible(ch)]


question_lines = texts | json_line(questions)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(content=file_content(question_lines))
@example(content="Who founded\u2028Velmora?\n")  # issue 19: answered as two questions
@example(content='{"question": "Who?"}\n{"question": "   "}\n')  # a blank JSON question
@example(content="Why? " * 20 + "\n")  # over the limit
@example(content='{"question": ' + "[" * 100_000 + "\n")  # issue 19: RecursionError
def test_any_question_file_gives_valid_questions_or_a_clear_input_error(content):
    with tempfile.TemporaryDirectory() as folder:
        questions = read_or_refuse(lambda path: read_questions(path, MAX_QUESTION_CHARS), folder, "questions.txt", content)
        if questions is None:
            return
        assert questions
        for question in questions:
            question.encode("utf-8")
            assert visible(question) and question == question.strip() and len(question) <= MAX_QUESTION_CHARS


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(content=file_content(json_line(documents)))
def test_whatever_is_read_is_stored_as_read(content):
    """Through the catalogue: what `add` accepts comes back from SQLite unchanged (NUL characters too)."""
    with tempfile.TemporaryDirectory() as folder:
        ingested = read_or_refuse(read_documents, folder, "docs.jsonl", content)
        if ingested is None:
            return
        prag = Prag(Path(folder) / "home", settings=Settings(ingest=CONFIG))
        prag.add([Path(folder) / "docs.jsonl"])
        assert prag.documents() == ingested.documents
        prag.catalog.db.close()
