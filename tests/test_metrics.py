from prag.eval.metrics import exact_match, f1_score, normalize_answer


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
