from prag.augment import Augmenter, is_valid_pair, parse_qa
from prag.config import AugmentConfig
from prag.types import Document, QAPair

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


class ScriptedWriter:
    """Stands in for the model's generation only, to pin down which sentences are asked and when: each
    prompt is answered from `replies` by the sentence it names (a list: one reply per attempt)."""

    def __init__(self, replies: dict[str, list[str]]):
        self.replies = replies
        self.asked: list[tuple[str, float]] = []

    def chat_prompt(self, user: str, assistant_prefix: str = "") -> str:
        return user

    def generate(self, prompts, max_new_tokens, temperature=0.0, seed=0, done=None):
        outputs = []
        for prompt in prompts:
            sentence = next(s for s in self.replies if f'"{s}"' in prompt)
            self.asked.append((sentence, temperature))
            answers = self.replies[sentence]
            outputs.append(answers[min(sum(1 for s, _ in self.asked if s == sentence) - 1, len(answers) - 1)])
        return outputs


def test_sentence_questions_ask_each_sentence_and_retry_only_the_failed_ones_while_short():
    first, second, third = "The Velmora Clock Tower was completed in 1887 by Tashkel Brevik.", "It is 64 metres tall.", "It has four faces."
    writer = ScriptedWriter({
        first: [" Who completed the Velmora Clock Tower?\nA: Tashkel Brevik"],
        second: [" How tall?\nA: 64 metres", " How tall is the Velmora Clock Tower?\nA: 64 metres"],  # too short, then valid
        third: [" What does the Velmora Clock Tower have?\nA: four faces"],
    })
    doc = Document("tower", f"{first} {second} {third}")
    augmenter = Augmenter(writer, AugmentConfig(questions="sentence", qa_pairs=3, rewrites=0))
    [(_, aug)] = list(augmenter.augment([doc]))
    assert [p.answer for p in aug.qa_pairs] == ["Tashkel Brevik", "64 metres", "four faces"]  # sentence order
    assert writer.asked == [(first, 0.0), (second, 0.0), (third, 0.0), (second, 0.7)]  # only the failed one again, sampled
    assert aug.attempts == 2


def test_sentence_questions_keep_the_first_pairs_and_stop_asking_once_enough():
    first, second, third = "The Velmora Clock Tower was completed in 1887 by Tashkel Brevik.", "It is 64 metres tall.", "It has four faces."
    writer = ScriptedWriter({
        first: [" When was the Velmora Clock Tower completed?\nA: 1887"],
        second: [" noise"],
        third: [" What does the Velmora Clock Tower have?\nA: four faces"],
    })
    augmenter = Augmenter(writer, AugmentConfig(questions="sentence", qa_pairs=2, rewrites=0))
    [(_, aug)] = list(augmenter.augment([Document("tower", f"{first} {second} {third}")]))
    assert [p.answer for p in aug.qa_pairs] == ["1887", "four faces"]
    assert len(writer.asked) == 3 and aug.attempts == 1  # two valid pairs: the failed sentence is not asked again
