import pytest

from prag.config import AnswerConfig
from prag.engine.prompting import AnswerPrompt
from prag.eval.metrics import exact_match, extract_answer, f1_score, normalize_answer


def test_normalize_drops_case_punctuation_articles_and_spaces():
    assert normalize_answer("  The  Eiffel-Tower, in PARIS! ") == "eiffeltower in paris"
    assert normalize_answer("An apple a day") == "apple day"


def test_exact_match_takes_the_best_alias():
    assert exact_match("the Fenn", ["Aldric Fenn", "Fenn"]) == 1.0
    assert exact_match("Aldric", ["Aldric Fenn", "Fenn"]) == 0.0
    assert exact_match("anything", []) == 0.0


def test_f1_is_token_overlap():
    assert f1_score("Aldric Fenn", ["Fenn"]) == 2 * (0.5 * 1.0) / 1.5
    assert f1_score("August 25, 1963", ["August 25 1963"]) == 1.0
    assert f1_score("blue", ["red"]) == 0.0


def test_yes_no_only_score_when_equal():
    assert f1_score("yes", ["yes"]) == 1.0
    assert f1_score("yes it is", ["yes"]) == 0.0
    assert f1_score("no", ["no way"]) == 0.0
    assert f1_score("noanswer", ["no answer"]) == 0.0


def test_aliases_articles_and_punctuation():
    assert exact_match("The United States.", ["USA", "United States"]) == 1.0
    assert f1_score("an Oak tree!", ["oak"]) == 2 * (0.5 * 1.0) / 1.5
    assert exact_match("Dr. Who", ["dr who"]) == 1.0


def test_paper_protocol_cuts_at_the_first_stop_and_full_keeps_the_line():
    generated = " August 25, 1963.\nMore text"
    assert extract_answer(generated, "paper") == "August 25"
    assert extract_answer(generated, "full") == "August 25, 1963"
    assert f1_score(extract_answer(generated, "full"), ["August 25, 1963"]) == 1.0
    assert f1_score(extract_answer(generated, "paper"), ["August 25, 1963"]) < 1.0


def test_chain_of_thought_scores_what_follows_the_answer_is():
    generated = " Jaws was directed by Spielberg. He was born in Cincinnati, Ohio. So the answer is Cincinnati, Ohio."
    assert extract_answer(generated, "paper", cot=True) == "Cincinnati"
    assert extract_answer(generated, "full", cot=True) == "Cincinnati, Ohio"
    assert extract_answer(" THE ANSWER IS: no.", "paper", cot=True) == "no"
    # No "the answer is": the whole text is scored, as the reference code does.
    assert extract_answer(" Cincinnati.", "paper", cot=True) == "Cincinnati"
    # Generation stops one token past the answer's sentence: that token is not part of the answer,
    # and an initial's full stop does not end the sentence.
    assert extract_answer(" So the answer is Paris. It", "full", cot=True) == "Paris"
    assert extract_answer(" So the answer is Fred C. Koch. So", "full", cot=True) == "Fred C. Koch"
    assert extract_answer(" So the answer is F. W. Murnau.\n", "full", cot=True) == "F. W. Murnau"


def test_unknown_protocol_is_refused():
    with pytest.raises(ValueError):
        extract_answer("x", "lenient")


def test_chain_of_thought_generation_stops_after_the_answer_sentence_not_at_an_initial():
    prompt = AnswerPrompt(generator=None, config=AnswerConfig(prompt="cot", exemplars="hotpotqa"))  # no model needed
    assert not prompt.is_complete(" Murnau directed it. So the answer is F. W")
    assert not prompt.is_complete(" So the answer is F. W. Murnau.")
    assert prompt.is_complete(" So the answer is F. W. Murnau. He")
    assert prompt.is_complete(" So the answer is 1963\n")
    assert not prompt.is_complete(" He was born in 1963. So")
