"""One collection's retrieval, by the name AnswerConfig.retrieval gives it (config.RETRIEVALS): BM25 on the
question's words, or BM25 and the documents its passages name (`prag.retrieve.links`)."""

from __future__ import annotations

from prag.config import RETRIEVALS
from prag.retrieve.bm25 import BM25Index
from prag.retrieve.links import TitleLinks, search_with_links
from prag.types import Document


class Retriever:
    """One collection's retrieval as a RETRIEVALS name says (`bm25` or `links`), its title links built at
    the first search that needs them."""

    def __init__(self, index: BM25Index, documents: dict[str, Document], retrieval: str):
        if retrieval not in RETRIEVALS:
            raise ValueError(f"retrieval must be one of {RETRIEVALS}, got {retrieval!r}")
        self.index, self.documents, self.retrieval = index, documents, retrieval
        self._links: TitleLinks | None = None

    def search(self, query: str, top_k: int) -> list[tuple[str, float]]:
        """The top-k (id, score) in rank order."""
        if self.retrieval == "bm25":
            return self.index.search(query, top_k)
        if self._links is None:
            self._links = TitleLinks(list(self.documents.values()))
        return search_with_links(self.index, self._links, self.documents, query, top_k)
