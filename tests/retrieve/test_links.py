"""Retrieval that follows title links: which documents a text names, and the top-k that BM25's upper half
and the documents its passages name make together."""

from __future__ import annotations

import pytest

from prag.config import AnswerConfig
from prag.retrieve.bm25 import BM25Index
from prag.retrieve.links import TitleLinks, link_slots, search_with_links
from prag.retrieve.retriever import Retriever
from prag.types import Document

CORPUS = [
    Document("wedding", "Polish Wedding, shot in Detroit, is a 1998 film directed by Theresa Connelly.", "Polish Wedding"),
    Document("connelly", "Theresa Connelly is an American screenwriter who studied at Temple University and later taught writing there; she was born in Philadelphia.", "Theresa Connelly"),
    Document("harbor", "Harbor Lights is a film whose director was born in Oslo.", "Harbor Lights"),
    Document("bells", "Wedding Bells is a song; its director was born in Krakow.", "Wedding Bells"),
    Document("detroit", "Detroit is a city in Michigan.", "Detroit"),
    Document("ion", "Ion is a play by Euripides.", "Ion"),
    Document("tv", "Television came to Michigan in 1947; the first station was in Detroit.", "Television in Michigan"),
]
DOCS = {d.id: d for d in CORPUS}
QUESTION = "Where was the director of Polish Wedding born?"


@pytest.fixture(scope="module")
def index() -> BM25Index:
    return BM25Index.build(CORPUS)


def test_a_text_names_documents_by_whole_titles_in_order_of_first_mention():
    links = TitleLinks(CORPUS)
    named = links.named_in("Connelly, i.e. THERESA CONNELLY, moved to Detroit; Theresa Connelly stayed on television.")
    assert named == ["connelly", "detroit"]  # "Ion" is not named inside "television", nor a title by part of it


def test_short_titles_are_not_links():
    short = Document("ra", "Ra is the sun god.", "Ra")
    assert TitleLinks([short]).named_in("Ra rose. The sun god Ra.") == []


def test_bm25_alone_misses_the_second_hop_that_the_first_hop_names(index):
    assert "connelly" not in [doc_id for doc_id, _ in index.search(QUESTION, 3)]


def test_links_keep_bm25s_upper_half_then_the_named_document_closest_to_the_question(index):
    ranked = index.search(QUESTION, 3)
    assert ranked[0][0] == "wedding"
    hits = search_with_links(index, TitleLinks(CORPUS), DOCS, QUESTION, 3)
    assert hits[:2] == ranked[:2]
    # Polish Wedding's passage names Detroit first, but Theresa Connelly's page shares "born" with the question
    assert hits[2] == ("connelly", ranked[0][1])  # carrying the score of the passage that named it


def test_a_document_named_by_both_the_question_and_a_passage_is_linked_once(index):
    question = "Where was the director of Polish Wedding, Theresa Connelly, born?"
    ids = [doc_id for doc_id, _ in search_with_links(index, TitleLinks(CORPUS), DOCS, question, 5)]
    assert "connelly" in ids and len(ids) == len(set(ids)) == 5


def test_without_links_bm25s_next_documents_fill_the_places(index):
    question = "a film whose director was born in Oslo"
    no_links = TitleLinks([])
    assert search_with_links(index, no_links, DOCS, question, 3) == index.search(question, 3)


@pytest.mark.parametrize("top_k, slots", [(1, 0), (2, 1), (3, 1), (5, 2)])
def test_bm25_keeps_the_upper_half_of_the_places(top_k, slots):
    assert link_slots(top_k) == slots


def test_top_1_is_bm25s(index):
    assert search_with_links(index, TitleLinks(CORPUS), DOCS, QUESTION, 1) == index.search(QUESTION, 1)


def test_a_small_collection_returns_what_it_has():
    small = CORPUS[:2]
    hits = search_with_links(BM25Index.build(small), TitleLinks(small), {d.id: d for d in small}, QUESTION, 5)
    assert sorted(doc_id for doc_id, _ in hits) == ["connelly", "wedding"]


def test_the_retriever_searches_as_its_retrieval_says(index):
    assert Retriever(index, DOCS, "bm25").search(QUESTION, 3) == index.search(QUESTION, 3)
    assert Retriever(index, DOCS, "links").search(QUESTION, 3) == search_with_links(index, TitleLinks(CORPUS), DOCS, QUESTION, 3)


def test_an_unknown_retrieval_is_refused(index):
    with pytest.raises(ValueError, match="retrieval must be one of"):
        AnswerConfig(retrieval="dense")
    with pytest.raises(ValueError, match="retrieval must be one of"):
        Retriever(index, DOCS, "dense")


def test_bm25_scores_of_given_documents(index):
    ranked = dict(index.search(QUESTION, len(CORPUS)))
    assert index.scores_of(QUESTION, ["connelly", "bells", "missing"]) == {
        "connelly": pytest.approx(ranked["connelly"]), "bells": pytest.approx(ranked["bells"]), "missing": 0.0,
    }
    assert index.scores_of("the of", ["bells"]) == {"bells": 0.0}


def test_a_prag_set_to_links_retrieves_and_answers_with_the_linked_document(tiny_model_dir):
    from dataclasses import replace

    from prag import Mode, Prag

    from ..conftest import FAST

    links = Prag(model=str(tiny_model_dir), collection="links", settings=replace(FAST, answer=replace(FAST.answer, retrieval="links")))
    links.add_documents(CORPUS, source="test")
    links.build(encode=False, augment=False)
    bm25 = Prag(model=str(tiny_model_dir), collection="links", settings=FAST)
    assert [d.id for d in bm25.retrieve(QUESTION, 3)] == [doc_id for doc_id, _ in BM25Index.build(CORPUS).search(QUESTION, 3)]
    assert [d.id for d in links.retrieve(QUESTION, 3)][2] == "connelly"
    assert links.ask(QUESTION, Mode.RAG, top_k=3).documents[2] == "connelly"
