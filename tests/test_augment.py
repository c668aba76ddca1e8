from prag.augment import is_valid_pair, parse_qa
from prag.types import QAPair

PASSAGE = "The Velmora Clock Tower was completed in 1887 by Tashkel Brevik. It is 64 metres tall."


def test_parse_reads_line_pairs_and_skips_noise():
    text = "Q: When was it completed?\nA: 1887.\nnoise\nQ: Who built it?\nA: Tashkel Brevik\nQ: dangling?"
    assert parse_qa(text) == [QAPair("When was it completed?", "1887"), QAPair("Who built it?", "Tashkel Brevik")]


def test_valid_pair_is_a_grounded_short_answer():
    assert is_valid_pair(QAPair("When was the tower completed?", "1887"), [PASSAGE], [])
    assert is_valid_pair(QAPair("How tall is the tower?", "64 metres"), [PASSAGE], [])


def test_invalid_pairs_are_rejected():
    kept = [QAPair("When was the tower completed?", "1887")]
    assert not is_valid_pair(QAPair("When was the tower completed", "1887"), [PASSAGE], [])  # not a question
    assert not is_valid_pair(QAPair("When was the tower completed?", ""), [PASSAGE], [])  # empty answer
    assert not is_valid_pair(QAPair("Who designed the tower?", "Mina Castell"), [PASSAGE], [])  # not grounded
    assert not is_valid_pair(QAPair("Was Tashkel Brevik the builder?", "Tashkel Brevik"), [PASSAGE], [])  # in question
    assert not is_valid_pair(QAPair("When was the tower completed?", "1887"), [PASSAGE], kept)  # repeat
    assert not is_valid_pair(QAPair("When?", "1887"), [PASSAGE], [])  # too short to be a question


def test_grounding_accepts_the_rewrite():
    assert is_valid_pair(QAPair("Who finished the tower?", "T. Brevik"), [PASSAGE, "T. Brevik finished it."], [])


def test_questions_copied_from_the_worked_example_are_rejected():
    assert not is_valid_pair(QAPair("Who designed the Harlow Bridge?", "Tashkel Brevik"), [PASSAGE], [])
    assert is_valid_pair(QAPair("Who completed the Velmora Clock Tower?", "Tashkel Brevik"), [PASSAGE], [])


def test_the_answer_must_be_of_the_kind_asked_for():
    assert not is_valid_pair(QAPair("When was the tower completed?", "Tashkel Brevik"), [PASSAGE], [])
    assert not is_valid_pair(QAPair("Who completed the tower?", "1887"), [PASSAGE], [])
    assert not is_valid_pair(QAPair("In what year was the tower completed?", "64 metres tall"), [PASSAGE + " tall"], [])
    assert is_valid_pair(QAPair("How tall is the tower?", "64 metres"), [PASSAGE], [])
