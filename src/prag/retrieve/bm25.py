"""BM25 over title + text with bm25s, saved as plain .npy/.json files next to the list of document ids
and the sha256 of each of those files, so that a damaged index is found when loaded, not at a search."""

from __future__ import annotations

import hashlib
from functools import cached_property
from pathlib import Path

import bm25s

from prag.errors import DamagedError, NotBuiltError
from prag.store.files import file_digests, read_json_object, read_verified, staged_folder, write_json_atomic
from prag.types import Document

STOPWORDS = "english"
IDS_FILE = "ids.json"
"""The indexed documents' ids in bm25s's row order, the digest of the corpus they came from, and the
sha256 of every file bm25s wrote."""


class BM25Index:
    def __init__(self, retriever: bm25s.BM25, ids: list[str], digest: str):
        self.retriever = retriever
        self.ids = ids
        self.digest = digest
        """Identifies the documents indexed, to tell when the index is stale."""

    @classmethod
    def build(cls, documents: list[Document]) -> "BM25Index":
        if not documents:
            raise NotBuiltError("cannot build an index over no documents")
        retriever = bm25s.BM25()
        tokens = bm25s.tokenize([f"{d.title}\n{d.text}" for d in documents], stopwords=STOPWORDS, show_progress=False)
        retriever.index(tokens, show_progress=False)
        return cls(retriever, [d.id for d in documents], corpus_digest(documents))

    def search(self, query: str, k: int) -> list[tuple[str, float]]:
        """Top-k (id, score) in rank order; fewer when the collection is smaller than k."""
        k = min(k, len(self.ids))
        tokens = bm25s.tokenize([query], stopwords=STOPWORDS, show_progress=False)
        if not tokens.ids[0]:
            return [(doc_id, 0.0) for doc_id in self.ids[:k]]
        indices, scores = self.retriever.retrieve(tokens, k=k, show_progress=False)
        return [(self.ids[int(i)], float(s)) for i, s in zip(indices[0], scores[0])]

    def scores_of(self, query: str, doc_ids: list[str]) -> dict[str, float]:
        """The BM25 score of each given document for the query (0 for one the index does not hold)."""
        words = bm25s.tokenize([query], stopwords=STOPWORDS, return_ids=False, show_progress=False)[0]
        if not words:
            return dict.fromkeys(doc_ids, 0.0)
        scores = self.retriever.get_scores(words)
        rows = self._rows
        return {doc_id: float(scores[rows[doc_id]]) if doc_id in rows else 0.0 for doc_id in doc_ids}

    @cached_property
    def _rows(self) -> dict[str, int]:
        return {doc_id: row for row, doc_id in enumerate(self.ids)}

    @staticmethod
    def exists(folder: Path) -> bool:
        return (folder / IDS_FILE).is_file()

    def save(self, folder: Path) -> None:
        with staged_folder(folder) as stage:
            self.retriever.save(stage, show_progress=False)
            files = file_digests(stage, sorted(p.name for p in stage.iterdir()))
            write_json_atomic(stage / IDS_FILE, {"ids": self.ids, "digest": self.digest, "files": files})

    @classmethod
    def load(cls, folder: Path) -> "BM25Index":
        """Raises NotBuiltError when there is no index, DamagedError when its files are not those saved."""
        if not cls.exists(folder):
            raise NotBuiltError(f"no BM25 index at {folder}: run `prag build`")
        what = f"the BM25 index in {folder}"
        meta = read_json_object(folder / IDS_FILE, what)
        ids, digest, files = meta.get("ids"), meta.get("digest"), meta.get("files")
        if not (isinstance(ids, list) and isinstance(digest, str) and isinstance(files, dict) and files):
            raise DamagedError(f"{what} is damaged: {IDS_FILE} lacks its ids, corpus digest or file digests")
        read_verified(folder, sorted(files), files, what)
        return cls(bm25s.BM25.load(folder, load_corpus=False), ids, digest)


def corpus_digest(documents: list[Document]) -> str:
    lines = "\n".join(f"{d.id}\t{d.content_hash}" for d in documents)
    return hashlib.sha256(lines.encode()).hexdigest()[:16]
