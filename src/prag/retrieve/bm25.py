"""BM25 over title + text with bm25s, saved as plain .npy/.json files next to the list of document ids."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import bm25s

from prag.errors import NotBuiltError
from prag.store.files import staged_folder, write_json_atomic
from prag.types import Document

STOPWORDS = "english"
IDS_FILE = "ids.json"
"""The indexed documents' ids in bm25s's row order, and the digest of the corpus they came from."""


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

    @staticmethod
    def exists(folder: Path) -> bool:
        return (folder / IDS_FILE).is_file()

    def save(self, folder: Path) -> None:
        with staged_folder(folder) as stage:
            self.retriever.save(stage, show_progress=False)
            write_json_atomic(stage / IDS_FILE, {"ids": self.ids, "digest": self.digest})

    @classmethod
    def load(cls, folder: Path) -> "BM25Index":
        if not cls.exists(folder):
            raise NotBuiltError(f"no BM25 index at {folder}: run `prag build`")
        meta = json.loads((folder / IDS_FILE).read_text())
        return cls(bm25s.BM25.load(folder, load_corpus=False), meta["ids"], meta["digest"])


def corpus_digest(documents: list[Document]) -> str:
    lines = "\n".join(f"{d.id}\t{d.content_hash}" for d in documents)
    return hashlib.sha256(lines.encode()).hexdigest()[:16]
