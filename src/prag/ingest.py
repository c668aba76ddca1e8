"""Reading user files: documents (JSONL, .txt, .md) and question lists. Every file is checked whole before use."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

from prag.config import AnswerConfig, IngestConfig
from prag.errors import InputError
from prag.types import Document, document_hash

JSONL_SUFFIX = ".jsonl"
TEXT_SUFFIXES = (".txt", ".md")
BOM = "\ufeff"


@dataclass
class Ingested:
    documents: list[Document] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    """What was changed on the way in (chunking), for the user to see."""
    chunk_of: dict[str, str] = field(default_factory=dict)
    """Chunk id -> the id of the document it was cut from, so the catalogue can tell the two apart."""


def read_files(paths: list[Path], config: IngestConfig) -> Ingested:
    """Every document of every file, cut into chunks within the config's bounds; the first bad line, or
    two different documents with one id, is an error naming where."""
    result, seen = Ingested(), {}
    for path in paths:
        for where, doc in _read_file(Path(path)):
            chunks = chunk(doc, config.max_document_words, config.max_document_chars)
            origin = doc.id if len(chunks) > 1 else None
            if origin:
                result.notes.append(_chunked_note(where, doc, chunks, config))
                result.chunk_of.update((c.id, origin) for c in chunks)
            for number, piece in enumerate(chunks, start=1):
                label = f"{where} (chunk {number} of {origin!r})" if origin else where
                if _is_new(piece, origin, label, seen):
                    result.documents.append(piece)
    return result


def _chunked_note(where: str, doc: Document, chunks: list[Document], config: IngestConfig) -> str:
    return (
        f"{where}: document {doc.id!r} has {len(doc.text.split())} words and {len(doc.text)} characters, more than "
        f"{config.max_document_words} words or {config.max_document_chars} characters; "
        f"split into {len(chunks)} chunks {chunks[0].id!r}..{chunks[-1].id!r}"
    )


def _is_new(doc: Document, origin: str | None, where: str, seen: dict[str, tuple[str, str, str | None]]) -> bool:
    """False for an exact repeat (same id, text and origin); two different documents with one id are refused."""
    if doc.id not in seen:
        seen[doc.id] = (where, doc.content_hash, origin)
        return True
    first, content, first_origin = seen[doc.id]
    if (content, first_origin) != (doc.content_hash, origin):
        raise InputError(f"{where}: document id {doc.id!r} is also the id of {first}; give one of them another id")
    return False


def _read_file(path: Path) -> list[tuple[str, Document]]:
    """(where, document) for every document of the file."""
    suffix = path.suffix.lower()
    if suffix not in (JSONL_SUFFIX, *TEXT_SUFFIXES):
        raise InputError(f"{path}: unsupported file type {path.suffix!r}; use .jsonl, .txt or .md")
    text = read_text(path)
    if suffix == JSONL_SUFFIX:
        return _parse_jsonl(path, text)
    return [(str(path), make_document(text, title=path.stem, where=str(path)))]


def read_text(path: Path) -> str:
    """The file as UTF-8 text, without the byte-order mark some editors put first, and with `\\r\\n` and `\\r`
    read as `\\n` (as `open()` reads them: a document's text, and so its content hash, does not depend on
    the editor that saved it)."""
    if path.is_dir():
        raise InputError(f"{path}: is a directory; give the files in it")
    if not path.is_file():
        raise InputError(f"{path}: no such file")
    try:
        data = path.read_bytes()
    except OSError as e:
        raise InputError(f"{path}: cannot be read ({e.strerror})") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        line = data.count(b"\n", 0, e.start) + 1
        raise InputError(f"{path}:{line}: not valid UTF-8 (byte {e.start}); convert it to UTF-8 first") from None
    return text.removeprefix(BOM).replace("\r\n", "\n").replace("\r", "\n")


def numbered_lines(text: str) -> Iterator[tuple[int, str]]:
    """(number, line) of text from `read_text`, split at `\\n` alone: `str.splitlines()` also splits at
    U+2028, U+0085, `\\v`, `\\f` and others, which a JSON string or a question may hold."""
    return enumerate(text.split("\n"), start=1)


def json_lines(path: Path, text: str) -> Iterator[tuple[str, object]]:
    """(`file:line`, value) for every non-blank line; the first line that is not JSON is an error naming it.
    The one reader of JSON lines: documents, question files and benchmark files alike."""
    for number, line in numbered_lines(text):
        if line.strip():
            where = f"{path}:{number}"
            yield where, json_line(line, where)


def json_line(line: str, where: str) -> object:
    try:
        return json.loads(line)
    except json.JSONDecodeError as e:
        raise InputError(f"{where}: not valid JSON ({e.msg})") from None
    except RecursionError:
        raise InputError(f"{where}: JSON nested too deeply") from None


def _parse_jsonl(path: Path, text: str) -> list[tuple[str, Document]]:
    documents = [(where, _document_from_record(record, where)) for where, record in json_lines(path, text)]
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
    for name, value in (("text", text), ("title", title), ("id", doc_id or "")):
        require_unicode(value, f"document {name}", where)
    text, title = text.strip(), title.strip()
    if not visible(text):
        raise InputError(f"{where}: document text is empty (nothing visible)")
    if doc_id is not None and not visible(doc_id):
        raise InputError(f"{where}: document id is empty (nothing visible)")
    return Document(id=doc_id if doc_id is not None else document_hash(title, text)[:16], text=text, title=title)


def visible(text: str) -> bool:
    """Has a printable character other than a space: a byte-order mark, a zero-width space or a control
    character alone (`str.isprintable()` is False for them) is as good as empty."""
    return any(ch.isprintable() and not ch.isspace() for ch in text)


def require_unicode(value: str, what: str, where: str) -> None:
    """Refuses a lone surrogate (a JSON escape such as `\\udcff` decodes to one): it cannot be stored or
    tokenised as UTF-8."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as e:
        raise InputError(
            f"{where}: {what} has a lone surrogate U+{ord(value[e.start]):04X} at character {e.start + 1}, which is not text"
        ) from None


def client_document(text: str, title: str, doc_id: str | None, config: IngestConfig) -> Document:
    """A document from a client's fields (the HTTP service); one over the word or character limit is
    refused, not chunked, so that its id stays the client's."""
    doc = make_document(text, title=title, doc_id=doc_id, where=f"document {doc_id!r}" if doc_id else "document")
    words, chars = len(doc.text.split()), len(doc.text)
    if words > config.max_document_words or chars > config.max_document_chars:
        raise InputError(
            f"{doc.id!r} has {words} words and {chars} characters; the limits are {config.max_document_words} "
            f"words and {config.max_document_chars} characters: split it into several documents"
        )
    return doc


def chunk(doc: Document, max_words: int, max_chars: int) -> list[Document]:
    """Splits on word boundaries into near-equal chunks of at most `max_words` words and `max_chars`
    characters each (a longer word is cut); ids gain `#1`, `#2`, …"""
    pieces = _pieces(doc.text, max_words, max_chars)
    if len(pieces) == 1:
        return [Document(id=doc.id, title=doc.title, text=pieces[0])]
    return [Document(id=f"{doc.id}#{i}", title=doc.title, text=piece) for i, piece in enumerate(pieces, start=1)]


def _pieces(text: str, max_words: int, max_chars: int) -> list[str]:
    words = text.split()
    if len(words) <= max_words and len(text) <= max_chars:
        return [text]
    words = [part for word in words for part in _cut(word, max_chars)]
    pieces = [piece for group in _near_equal(words, max_words) for piece in _within_chars(group, max_chars)]
    return [piece for piece in pieces if visible(piece)]  # a run of control or zero-width characters is no document


def _cut(word: str, max_chars: int) -> list[str]:
    return [word[start : start + max_chars] for start in range(0, len(word), max_chars)]


def _near_equal(words: list[str], max_words: int) -> list[list[str]]:
    count = -(-len(words) // max_words)
    size = -(-len(words) // count)
    return [words[start : start + size] for start in range(0, len(words), size)]


def _within_chars(words: list[str], max_chars: int) -> list[str]:
    """The words joined by spaces, in as few pieces of at most `max_chars` as the order allows."""
    pieces, current = [], ""
    for word in words:
        if current and len(current) + 1 + len(word) > max_chars:
            pieces.append(current)
            current = word
        else:
            current = f"{current} {word}" if current else word
    return [*pieces, current]


def read_questions(path: Path, max_chars: int = AnswerConfig.max_question_chars) -> list[str]:
    """One question per line, or JSONL with a "question" field per line (other fields are ignored,
    so an evaluation file can be passed as it is). Blank lines are skipped. Every question is checked
    (not empty, at most `max_chars` characters) before any is returned."""
    path = Path(path)
    questions = [
        _question_from_line(line.strip(), f"{path}:{number}", max_chars)
        for number, line in numbered_lines(read_text(path))
        if visible(line)
    ]
    if not questions:
        raise InputError(f"{path}: no questions in file")
    return questions


def _question_from_line(line: str, where: str, max_chars: int) -> str:
    question = _json_question(line, where) if line.startswith("{") else line
    if len(question) > max_chars:
        raise InputError(f"{where}: the question has {len(question)} characters; the limit is {max_chars}")
    return question


def _json_question(line: str, where: str) -> str:
    record = json_line(line, where)
    question = record.get("question") if isinstance(record, dict) else None
    if not isinstance(question, str) or not visible(question):
        raise InputError(f"{where}: expected a JSON object with a non-empty string field \"question\"")
    require_unicode(question, "the question", where)
    return question.strip()
