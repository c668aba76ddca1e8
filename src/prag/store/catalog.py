"""Documents and their augmentations, per collection, in the SQLite catalogue."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field
from typing import Mapping

from prag.errors import InputError, NotBuiltError
from prag.types import Augmentation, Document, QAPair


@dataclass(frozen=True)
class AddResult:
    added: list[str]
    unchanged: list[str]
    removed: list[str] = field(default_factory=list)
    """Earlier pieces of a re-added document that its new text no longer has (e.g. a chunk `x#3`)."""


class Catalog:
    def __init__(self, db: sqlite3.Connection):
        self.db = db

    def ensure_collection(self, name: str) -> None:
        self.db.execute("INSERT OR IGNORE INTO collections(name) VALUES (?)", (name,))

    def has_collection(self, name: str) -> bool:
        return self.db.execute("SELECT 1 FROM collections WHERE name = ?", (name,)).fetchone() is not None

    def require_collection(self, name: str) -> None:
        if not self.has_collection(name):
            raise NotBuiltError(f"collection {name!r} does not exist: add documents with `prag add` first")

    def add_documents(
        self, collection: str, documents: list[Document], source: str, chunk_of: Mapping[str, str] | None = None
    ) -> AddResult:
        """All or nothing: one transaction. Re-adding the same id with the same content is a no-op.
        `chunk_of` maps each chunk's id to the id of the document it was cut from: a document replaces its
        own earlier text and chunks, and a chunk never replaces another document (that is refused)."""
        chunk_of = chunk_of or {}
        added, unchanged = [], []
        self.db.execute("BEGIN IMMEDIATE")
        try:
            self.ensure_collection(collection)
            seq = self._next_seq(collection)
            for doc in documents:
                row = self.db.execute(
                    "SELECT content_hash, chunk_of, source FROM documents WHERE collection = ? AND id = ?",
                    (collection, doc.id),
                ).fetchone()
                if row is not None:
                    _require_same_origin(doc.id, chunk_of.get(doc.id), row, source)
                    if row["content_hash"] == doc.content_hash:
                        self._record_origin(collection, doc.id, chunk_of.get(doc.id), row)
                        unchanged.append(doc.id)
                        continue
                self.db.execute(
                    "INSERT OR REPLACE INTO documents(collection, id, content_hash, title, text, source, seq, chunk_of)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (collection, doc.id, doc.content_hash, doc.title, doc.text, source, seq, chunk_of.get(doc.id)),
                )
                seq += 1
                added.append(doc.id)
            removed = self._remove_earlier_pieces(collection, documents, chunk_of)
            self.db.execute("COMMIT")
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        return AddResult(added, unchanged, removed)

    def _record_origin(self, collection: str, doc_id: str, origin: str | None, stored: sqlite3.Row) -> None:
        """A chunk stored before origins were recorded learns its document when it is added again."""
        if origin != stored["chunk_of"]:
            self.db.execute("UPDATE documents SET chunk_of = ? WHERE collection = ? AND id = ?", (origin, collection, doc_id))

    def _remove_earlier_pieces(self, collection: str, documents: list[Document], chunk_of: Mapping[str, str]) -> list[str]:
        """Rows of the same documents that the new ones do not carry on: a chunk beyond the new count, the
        whole document now chunked, or the chunks of a document now whole."""
        kept = {d.id for d in documents}
        removed = []
        for origin in dict.fromkeys(chunk_of.get(d.id, d.id) for d in documents):
            rows = self.db.execute(
                "SELECT id FROM documents WHERE collection = ? AND (chunk_of = ? OR (chunk_of IS NULL AND id = ?))",
                (collection, origin, origin),
            )
            removed.extend(r["id"] for r in rows if r["id"] not in kept)
        self.db.executemany("DELETE FROM documents WHERE collection = ? AND id = ?", [(collection, i) for i in removed])
        return removed

    def _next_seq(self, collection: str) -> int:
        row = self.db.execute("SELECT MAX(seq) FROM documents WHERE collection = ?", (collection,)).fetchone()
        return (row[0] or 0) + 1

    def documents(self, collection: str) -> list[Document]:
        rows = self.db.execute(
            "SELECT id, title, text FROM documents WHERE collection = ? ORDER BY seq", (collection,)
        ).fetchall()
        return [Document(id=r["id"], title=r["title"], text=r["text"]) for r in rows]

    def document(self, collection: str, doc_id: str) -> Document | None:
        row = self.db.execute(
            "SELECT id, title, text FROM documents WHERE collection = ? AND id = ?", (collection, doc_id)
        ).fetchone()
        return Document(id=row["id"], title=row["title"], text=row["text"]) if row else None

    def get_augmentation(self, content_hash: str, augment_key: str) -> Augmentation | None:
        row = self.db.execute(
            "SELECT rewrites, qa_pairs, attempts FROM augmentations WHERE content_hash = ? AND augment_key = ?",
            (content_hash, augment_key),
        ).fetchone()
        if row is None:
            return None
        pairs = tuple(QAPair(**p) for p in json.loads(row["qa_pairs"]))
        return Augmentation(tuple(json.loads(row["rewrites"])), pairs, row["attempts"])

    def put_augmentation(self, content_hash: str, augment_key: str, aug: Augmentation, provenance: dict) -> None:
        self.db.execute(
            "INSERT OR REPLACE INTO augmentations"
            "(content_hash, augment_key, rewrites, qa_pairs, attempts, valid_pairs, provenance)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                content_hash,
                augment_key,
                json.dumps(list(aug.rewrites)),
                json.dumps([{"question": p.question, "answer": p.answer} for p in aug.qa_pairs]),
                aug.attempts,
                aug.valid_pairs,
                json.dumps(provenance, sort_keys=True),
            ),
        )

    def delete_document(self, collection: str, doc_id: str) -> str | None:
        """Removes the document (its job row goes with it); returns its content hash, or None if absent."""
        row = self.db.execute(
            "SELECT content_hash FROM documents WHERE collection = ? AND id = ?", (collection, doc_id)
        ).fetchone()
        if row is None:
            return None
        self.db.execute("DELETE FROM documents WHERE collection = ? AND id = ?", (collection, doc_id))
        return row["content_hash"]

    def hash_in_use(self, content_hash: str) -> bool:
        """Is any document, in any collection, still made of this content?"""
        row = self.db.execute("SELECT 1 FROM documents WHERE content_hash = ? LIMIT 1", (content_hash,)).fetchone()
        return row is not None

    def delete_augmentations(self, content_hash: str) -> None:
        self.db.execute("DELETE FROM augmentations WHERE content_hash = ?", (content_hash,))

    def augmented_hashes(self, augment_key: str) -> set[str]:
        rows = self.db.execute("SELECT content_hash FROM augmentations WHERE augment_key = ?", (augment_key,))
        return {r[0] for r in rows}


def _require_same_origin(doc_id: str, origin: str | None, stored: sqlite3.Row, source: str) -> None:
    """A document may replace itself, and a chunk its own earlier text; two different documents never share an id.
    A row of no recorded origin added from the same files is taken to be this chunk's earlier self: chunks
    stored before origins were recorded have none, and two documents of one id in one file are refused
    when the file is read."""
    if origin == stored["chunk_of"] or (stored["chunk_of"] is None and origin is not None and stored["source"] == source):
        return
    new, old = _describe(doc_id, origin), _describe(doc_id, stored["chunk_of"])
    raise InputError(
        f"{new} would replace {old} (added from {stored['source']}), which has the same id: give {origin or doc_id!r} another id"
    )


def _describe(doc_id: str, chunk_of: str | None) -> str:
    return f"chunk {doc_id.rpartition('#')[2]} of document {chunk_of!r}" if chunk_of else f"document {doc_id!r}"
