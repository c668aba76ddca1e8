"""Reading user files: documents (JSONL, .txt, .md) and question lists. Every file is checked whole before use."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

from prag.config import IngestConfig
from prag.errors import InputError
from prag.types import Document, document_hash

TEXT_SUFFIXES = (".txt", ".md")


@dataclass
class Ingested:
    documents: list[Document] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    """What was changed on the way in (chunking), for the user to see."""


def read_files(paths: list[Path], config: IngestConfig) -> Ingested:
    result = Ingested()
    for path in paths:
        for doc in _read_file(Path(path)):
            chunks = chunk(doc, config.max_document_words)
            if len(chunks) > 1:
                result.notes.append(
                    f"{path}: document {doc.id!r} has {len(doc.text.split())} words, more than "
                    f"{config.max_document_words}; split into {len(chunks)} chunks {chunks[0].id!r}..{chunks[-1].id!r}"
                )
            result.documents.extend(chunks)
    _check_unique_ids(result.documents)
    return result


def _read_file(path: Path) -> list[Document]:
    text = read_text(path)
    if path.suffix == ".jsonl":
        return _parse_jsonl(path, text)
    if path.suffix in TEXT_SUFFIXES:
        return [make_document(text, title=path.stem, where=str(path))]
    raise InputError(f"{path}: unsupported file type {path.suffix!r}; use .jsonl, .txt or .md")


def read_text(path: Path) -> str:
    if not path.is_file():
        raise InputError(f"{path}: no such file")
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as e:
        raise InputError(f"{path}: not valid UTF-8 (byte {e.start}); convert it to UTF-8 first") from None


def json_lines(path: Path, text: str) -> Iterator[tuple[str, object]]:
    """(`file:line`, value) for every non-blank line; the first line that is not JSON is an error naming it.
    The one reader of JSON lines: documents, question files and benchmark files alike."""
    for number, line in enumerate(text.splitlines(), start=1):
        if line.strip():
            where = f"{path}:{number}"
            yield where, json_line(line, where)


def json_line(line: str, where: str) -> object:
    try:
        return json.loads(line)
    except json.JSONDecodeError as e:
        raise InputError(f"{where}: not valid JSON ({e.msg})") from None


def _parse_jsonl(path: Path, text: str) -> list[Document]:
    documents = [_document_from_record(record, where) for where, record in json_lines(path, text)]
    if not documents:
        raise InputError(f"{path}: no documents in file")
    return documents


def _document_from_record(record: object, where: str) -> Document:
    if not isinstance(record, dict):
        raise InputError(f"{where}: expected a JSON object with a \"text\" field")
    unknown = set(record) - {"id", "title", "text"}
    if unknown:
        raise InputError(f"{where}: unknown field(s) {sorted(unknown)}; allowed: id, title, text")
    for key in ("id", "title", "text"):
        if key in record and not isinstance(record[key], str):
            raise InputError(f"{where}: field {key!r} must be a string")
    if "text" not in record:
        raise InputError(f"{where}: missing field \"text\"")
    return make_document(record["text"], title=record.get("title", ""), doc_id=record.get("id"), where=where)


def make_document(text: str, title: str = "", doc_id: str | None = None, where: str = "document") -> Document:
    text, title = text.strip(), title.strip()
    if not text:
        raise InputError(f"{where}: document text is empty")
    if doc_id is not None and not doc_id.strip():
        raise InputError(f"{where}: document id is empty")
    return Document(id=doc_id if doc_id is not None else document_hash(title, text)[:16], text=text, title=title)


def client_document(text: str, title: str, doc_id: str | None, config: IngestConfig) -> Document:
    """A document from a client's fields (the HTTP service); one over the word limit is refused, not
    chunked, so that its id stays the client's."""
    doc = make_document(text, title=title, doc_id=doc_id, where=f"document {doc_id!r}" if doc_id else "document")
    words, limit = len(doc.text.split()), config.max_document_words
    if words > limit:
        raise InputError(f"{doc.id!r} has {words} words; the limit is {limit}: split it into several documents")
    return doc


def chunk(doc: Document, max_words: int) -> list[Document]:
    """Splits on word boundaries into near-equal chunks; ids gain `#1`, `#2`, …"""
    words = doc.text.split()
    if len(words) <= max_words:
        return [doc]
    count = -(-len(words) // max_words)
    size = -(-len(words) // count)
    return [
        Document(id=f"{doc.id}#{i + 1}", title=doc.title, text=" ".join(words[start : start + size]))
        for i, start in enumerate(range(0, len(words), size))
    ]


def _check_unique_ids(documents: list[Document]) -> None:
    seen: dict[str, str] = {}
    for doc in documents:
        if doc.id in seen and seen[doc.id] != doc.content_hash:
            raise InputError(f"document id {doc.id!r} appears twice with different text")
        seen[doc.id] = doc.content_hash


def read_questions(path: Path) -> list[str]:
    """One question per line, or JSONL with a "question" field per line (other fields are ignored,
    so an evaluation file can be passed as it is). Blank lines are skipped."""
    path = Path(path)
    lines = read_text(path).splitlines()
    questions = [_question_from_line(line.strip(), f"{path}:{n}") for n, line in enumerate(lines, 1) if line.strip()]
    if not questions:
        raise InputError(f"{path}: no questions in file")
    return questions


def _question_from_line(line: str, where: str) -> str:
    if not line.startswith("{"):
        return line
    record = json_line(line, where)
    question = record.get("question") if isinstance(record, dict) else None
    if not isinstance(question, str) or not question.strip():
        raise InputError(f"{where}: expected a JSON object with a non-empty string field \"question\"")
    return question.strip()
