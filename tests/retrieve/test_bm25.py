"""BM25Index over title + text: rank order, small collections, stop-word queries, persistence, the corpus
digest, and agreement with a plain BM25 written out here (bm25s's defaults: k1=1.5, b=0.75, the Lucene
idf and term frequency (Robertson's without the constant k1 + 1 factor), scikit-learn's token pattern,
English stop words)."""

from __future__ import annotations

import math
import re
from collections import Counter

import pytest
from bm25s.stopwords import STOPWORDS_EN

from prag.errors import NotBuiltError
from prag.retrieve.bm25 import BM25Index, corpus_digest
from prag.types import Document

CORPUS = [
    Document("velmora", "Velmora is a town on the Arn River. It was founded in 1843 by Aldric Fenn, a salt merchant.", "Velmora"),
    Document("quillon", "Quillon Dynamics builds clockwork pumps. Its chief executive is Odile Varga.", "Quillon Dynamics"),
    Document("brevik", "Tashkel Brevik was an engineer. He designed the Velmora Clock Tower, which is 64 metres tall.", "Tashkel Brevik"),
    Document("tarsk", "Tarsk is a river port. Its pumps were built in Velmora and its river is the Arn.", "Tarsk"),
    Document("salt", "Salt merchants of the river towns traded salt for clockwork and for pumps.", "Salt trade"),
]


# A plain BM25, for reference.

K1, B = 1.5, 0.75
TOKEN = re.compile(r"(?u)\b\w\w+\b")
STOP = set(STOPWORDS_EN)


def tokens(text: str) -> list[str]:
    return [t for t in TOKEN.findall(text.lower()) if t not in STOP]


def reference_scores(documents: list[Document], query: str) -> dict[str, float]:
    bags = {d.id: Counter(tokens(f"{d.title}\n{d.text}")) for d in documents}
    n = len(documents)
    avgdl = sum(sum(bag.values()) for bag in bags.values()) / n
    df = Counter(term for bag in bags.values() for term in bag)
    scores = {}
    for doc_id, bag in bags.items():
        dl = sum(bag.values())
        score = 0.0
        for term in tokens(query):
            tf = bag[term]
            if tf:
                idf = math.log(1 + (n - df[term] + 0.5) / (df[term] + 0.5))
                score += idf * tf / (tf + K1 * (1 - B + B * dl / avgdl))  # Lucene's form: no (k1 + 1) factor
        scores[doc_id] = score
    return scores


def reference_top(documents: list[Document], query: str, k: int) -> list[str]:
    scores = reference_scores(documents, query)
    ranked = sorted(scores, key=lambda i: -scores[i])
    top = ranked[:k]
    # The test's queries are chosen without ties at the cut, so the order is well defined.
    assert len({round(scores[i], 6) for i in ranked[: k + 1]}) == min(k + 1, len(ranked)), scores
    return top


@pytest.fixture(scope="module")
def index() -> BM25Index:
    return BM25Index.build(CORPUS)


def ids(results: list[tuple[str, float]]) -> list[str]:
    return [i for i, _ in results]


def test_the_document_with_the_rare_words_ranks_first(index):
    assert ids(index.search("Who is Odile Varga?", 3))[0] == "quillon"
    assert ids(index.search("Aldric Fenn", 3))[0] == "velmora"
    assert ids(index.search("how tall is the clock tower in metres", 3))[0] == "brevik"
    results = index.search("Odile Varga", 5)
    assert results[0][1] > 0 and all(score == 0 for _, score in results[1:])  # no other document has those words
    scores = [s for _, s in index.search("river salt pumps", 5)]
    assert scores == sorted(scores, reverse=True)


@pytest.mark.parametrize("query", ["salt river merchant", "Velmora river pumps", "pumps built by salt merchants", "Velmora founded"])
def test_top_3_agrees_with_a_plain_bm25(index, query):
    results = index.search(query, 3)
    assert ids(results) == reference_top(CORPUS, query, 3)
    reference = reference_scores(CORPUS, query)
    assert [s for _, s in results] == pytest.approx([reference[i] for i in ids(results)], rel=1e-4)


def test_title_is_indexed(index):
    # "Dynamics" and "trade" appear only in titles.
    assert ids(index.search("dynamics", 1)) == ["quillon"]
    assert ids(index.search("trade", 1)) == ["salt"]


def test_fewer_results_than_k_when_the_collection_is_smaller():
    small = BM25Index.build(CORPUS[:2])
    assert sorted(ids(small.search("Velmora pumps", 5))) == ["quillon", "velmora"]
    assert len(small.search("Velmora", 10)) == 2
    assert len(BM25Index.build(CORPUS[:1]).search("anything", 3)) == 1


def test_a_query_of_stop_words_still_returns_k_ids_at_score_0(index):
    results = index.search("what is it and who was the", 3)
    assert len(results) == 3 and len(set(ids(results))) == 3
    assert set(ids(results)) <= {d.id for d in CORPUS}
    assert all(score == 0.0 for _, score in results)
    assert len(index.search("", 2)) == 2


def test_a_query_of_unknown_words_returns_k_ids_at_score_0(index):
    results = index.search("zeppelin quartz", 3)
    assert len(results) == 3 and all(score == 0.0 for _, score in results)


def test_build_over_no_documents_is_refused():
    with pytest.raises(NotBuiltError):
        BM25Index.build([])


def test_save_load_round_trip(index, tmp_path):
    folder = tmp_path / "index"
    assert not BM25Index.exists(folder)
    index.save(folder)
    assert BM25Index.exists(folder)
    loaded = BM25Index.load(folder)
    assert loaded.ids == index.ids and loaded.digest == index.digest == corpus_digest(CORPUS)
    for query in ("Odile Varga", "salt river merchant", "Velmora river pumps", "the of and", "zeppelin"):
        assert loaded.search(query, 3) == index.search(query, 3)


def test_save_replaces_an_older_index(tmp_path):
    folder = tmp_path / "index"
    BM25Index.build(CORPUS[:2]).save(folder)
    BM25Index.build(CORPUS).save(folder)
    loaded = BM25Index.load(folder)
    assert loaded.ids == [d.id for d in CORPUS] and ids(loaded.search("Tashkel Brevik", 1)) == ["brevik"]


def test_load_of_an_empty_folder_says_to_build(tmp_path):
    folder = tmp_path / "empty"
    folder.mkdir()
    assert not BM25Index.exists(folder)
    with pytest.raises(NotBuiltError, match="prag build"):
        BM25Index.load(folder)
    with pytest.raises(NotBuiltError, match="prag build"):
        BM25Index.load(tmp_path / "missing")


def test_corpus_digest_tracks_ids_and_texts():
    digest = corpus_digest(CORPUS)
    assert corpus_digest([Document(d.id, d.text, d.title) for d in CORPUS]) == digest  # rebuilt identically
    assert BM25Index.build(list(CORPUS)).digest == digest
    changed_text = [*CORPUS[:2], Document("brevik", CORPUS[2].text + " Rebuilt.", CORPUS[2].title), *CORPUS[3:]]
    changed_id = [*CORPUS[:2], Document("brevik-2", CORPUS[2].text, CORPUS[2].title), *CORPUS[3:]]
    changed_title = [*CORPUS[:2], Document("brevik", CORPUS[2].text, "T. Brevik"), *CORPUS[3:]]
    digests = {digest, corpus_digest(changed_text), corpus_digest(changed_id), corpus_digest(changed_title),
               corpus_digest(CORPUS[:4])}
    assert len(digests) == 5
