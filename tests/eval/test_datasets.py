"""Dataset loaders: the copies in shared/data (counts from its PROVENANCE.md) and the original formats."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from prag.errors import InputError
from prag.eval.datasets import load

DATA = Path(__file__).resolve().parents[3] / "shared" / "data"
needs_data = pytest.mark.skipif(not DATA.is_dir(), reason="shared/data is not beside the project")


@needs_data
def test_hotpotqa_benchmark_types_corpus_and_gold():
    bench = load("hotpotqa", DATA / "hotpotqa" / "HotpotQA_500_benchmark.json")
    assert len(bench.examples) == 500
    assert Counter(e.type for e in bench.examples) == {"bridge": 406, "comparison": 94}
    corpus = bench.corpus()
    assert len({d.title for d in corpus}) == 4955
    ids = {d.id for d in corpus}
    assert all(e.gold_ids and set(e.gold_ids) <= ids for e in bench.examples)
    first = bench.examples[0]
    assert first.golds == ("1755",) and len(first.contexts) == 10


@needs_data
def test_2wiki_musique_popqa_cwq_copies():
    wiki = load("2wikimultihopqa", DATA / "2wikimultihopqa" / "2WikiMultihopQA_500_benchmark.json")
    assert Counter(e.type for e in wiki.examples) == {"compositional": 218, "comparison": 119, "bridge_comparison": 112, "inference": 51}
    assert len({d.title for d in wiki.corpus()}) == 3347 and all(e.gold_ids for e in wiki.examples)
    # 2Wiki's sentences carry no leading space: joined, they must not read "entrepreneur.De Margheriti".
    assert "entrepreneur. De Margheriti is widely" in wiki.examples[0].contexts[0].text
    prag_format = load("2wikimultihopqa", DATA / "2wikimultihopqa" / "dev.json")
    assert prag_format.examples[0].golds == ("Małgorzata Braunek",) and not prag_format.has_contexts
    musique = load("musique", DATA / "musique" / "musique_qa_100.json")
    assert Counter(e.type for e in musique.examples)["2hop"] == 53 and len(musique.corpus()) == 1839
    assert Counter(len(e.gold_ids) for e in musique.examples) == {2: 53, 3: 34, 4: 13}
    popqa = load("popqa", DATA / "popqa" / "test.jsonl")
    assert len(popqa.examples) == 1000 and Counter(e.type for e in popqa.examples)["screenwriter"] == 150
    assert popqa.examples[0].golds == ("Ralph Rainger", "Ralph Reichenthal") and not popqa.has_contexts
    cwq = load("cwq", DATA / "complexwebquestions" / "dev.json")
    assert len(cwq.examples) == 1000 and cwq.examples[0].golds == ("Muhammad Zia-ul-Haq",)


def test_original_formats(tmp_path):
    hotpot = tmp_path / "hotpot.jsonl"  # JSON lines, as AMOR's copy
    record = {
        "_id": "h1", "question": "Q?", "answer": "A", "type": "bridge",
        "context": [["T1", ["One. ", "Two."]], ["T2", ["Three.", ", Four.", " Five."]]],
        "supporting_facts": [["T2", 1], ["T1", 0], ["T2", 9], ["T3", 0]],
    }
    hotpot.write_text(json.dumps(record) + "\n")
    example = load("hotpotqa", hotpot).examples[0]
    assert [d.text for d in example.contexts] == ["One. Two.", "Three. , Four. Five."]
    assert example.gold_ids == (example.contexts[0].id, example.contexts[1].id)
    # In the order the facts list them, leading punctuation dropped; facts naming no sentence are skipped.
    assert example.evidence == ("Four.", "One.")

    folder = tmp_path / "wiki"
    folder.mkdir()
    (folder / "dev.json").write_text(json.dumps([{**record, "_id": "w1", "type": "inference", "answer_id": "Q7"}]))
    (folder / "id_aliases.json").write_text(json.dumps({"Q_id": "Q7", "aliases": ["Alpha", "A"]}) + "\n")
    assert load("2wikimultihopqa", folder / "dev.json").examples[0].golds == ("A", "Alpha")

    tsv = tmp_path / "popQA.tsv"
    tsv.write_text("id\tprop\tquestion\tpossible_answers\n7\tcapital\tWhat is the capital of X?\t[\"Y\", \"Why\"]\n")
    popqa = load("popqa", tsv).examples[0]
    assert (popqa.id, popqa.type, popqa.golds) == ("7", "capital", ("Y", "Why"))

    cwq = tmp_path / "ComplexWebQuestions_dev.json"
    cwq.write_text(json.dumps([{"ID": "c1", "question": "Q?", "compositionality_type": "conjunction",
                                "answers": [{"answer": "Paris", "aliases": ["City of Light"]}]}]))
    example = load("cwq", cwq).examples[0]
    assert (example.type, example.golds) == ("conjunction", ("Paris", "City of Light"))

    musique = tmp_path / "musique.jsonl"
    musique.write_text(json.dumps({
        "id": "3hop1__1_2_3", "question": "Q?", "answer": "A", "answer_aliases": ["a1"],
        "paragraphs": [{"idx": 0, "title": "T", "paragraph_text": "P.", "is_supporting": True}],
    }) + "\n")
    example = load("musique", musique).examples[0]
    assert (example.type, example.golds, len(example.gold_ids)) == ("3hop1", ("A", "a1"), 1)


def test_bad_files_are_clear_errors(tmp_path):
    with pytest.raises(InputError, match="unknown dataset"):
        load("squad", tmp_path / "x.json")
    with pytest.raises(InputError, match="no such file"):
        load("hotpotqa", tmp_path / "missing.json")
    broken = tmp_path / "broken.json"
    broken.write_text('[{"question": "Q?", "answer": "A"},')
    with pytest.raises(InputError, match="not valid JSON"):
        load("hotpotqa", broken)
    no_question = tmp_path / "noq.json"
    no_question.write_text('[{"answer": "A"}]')
    with pytest.raises(InputError, match="string \"question\""):
        load("hotpotqa", no_question)
    no_answer = tmp_path / "noa.json"
    no_answer.write_text('[{"question": "Q?"}]')
    with pytest.raises(InputError, match="answer must be"):
        load("hotpotqa", no_answer)


def test_a_question_without_a_usable_answer_is_refused(tmp_path):
    path = tmp_path / "hotpot.json"
    path.write_text(json.dumps([{"_id": "h1", "question": "Q?", "answer": "  ", "type": "bridge", "context": []}]))
    with pytest.raises(InputError, match="no non-empty answer"):
        load("hotpotqa", path)
