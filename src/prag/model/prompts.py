"""Prompt texts: the paper's answer prompt, and augmentation prompts a 135M model follows."""

from __future__ import annotations

from prag.types import QAPair

ANSWER_INSTRUCTION = (
    "You should answer the question by referring to the knowledge provided below and integrating your own knowledge."
)
ANSWER_PREFIX = "The answer is"
"""The assistant turn begins with this. No trailing space: with one, SmolLM2 starts lists ("1.")
because the space becomes its own token instead of joining the answer's first word."""


def answer_user_turn(question: str, passages: list[str] | None = None) -> str:
    """PRAG's USER_PROMPT: the instruction, numbered passages when the mode has them, the question."""
    question = question.strip()
    if not question.endswith("?"):
        question += "?"
    context = "".join(f"Passage {i}: {p}\n" for i, p in enumerate(passages or [], start=1))
    return f"{ANSWER_INSTRUCTION}\n{context}\n\nQuestion: {question}"


COT_INSTRUCTION = (
    "Answer the question by reasoning step by step. Use the passages below when there are any, together with "
    "your own knowledge, and end with \"So the answer is\" and a short answer, as the examples do."
)
COT_PREFIX = "Answer:"
ANSWER_LEAD = "So the answer is"
"""How a chain of thought states its answer, as the worked examples end."""


def cot_user_turn(question: str, passages: list[str] | None, exemplars: tuple[QAPair, ...]) -> str:
    """The chain-of-thought member of the same family: instruction, passages, worked examples, question.
    The reference code puts the examples before the passages; with Qwen2.5-0.5B that order lost the
    format whenever passages were present (0 of 12 held-out HotpotQA questions, 450-461, ended with "the
    answer is"), while examples next to the question kept it for 5 of 12 (bench/cot_format.py)."""
    question = question.strip()
    if not question.endswith("?"):
        question += "?"
    examples = "".join(f"Question: {e.question}\nAnswer: {e.answer}\n\n" for e in exemplars)
    context = "".join(f"Passage {i}: {p}\n" for i, p in enumerate(passages or [], start=1))
    context = f"Passages:\n{context}\n" if context else ""
    return f"{COT_INSTRUCTION}\n\n{context}Examples:\n{examples}Question: {question}"


def user_turn(question: str, passages: list[str] | None, exemplars: tuple[QAPair, ...] | None) -> str:
    """The answer prompt's user turn: chain of thought with `exemplars`, the paper's direct one without.
    Answering and training in the answer prompt both write it here, so the two cannot drift apart."""
    if exemplars is None:
        return answer_user_turn(question, passages)
    return cot_user_turn(question, passages, exemplars)


def answer_assistant_turn(answer: str) -> str:
    answer = answer.strip()
    if not answer.endswith("."):
        answer += "."
    return f"{ANSWER_PREFIX} {answer}"


def cot_assistant_turn(evidence: str, answer: str) -> str:
    """A chain-of-thought answer in the worked examples' shape: the evidence, then "So the answer is …"."""
    answer = answer.strip().rstrip(".")
    evidence = evidence.strip()
    if evidence and evidence[-1] not in ".!?":
        evidence += "."
    return f"{COT_PREFIX} {evidence + ' ' if evidence else ''}{ANSWER_LEAD} {answer}."


REWRITE_INSTRUCTION = (
    "Rewrite the following passage in your own words. Keep every name, place, date and number exactly as it is."
)

QA_EXAMPLE_PASSAGE = (
    "The Harlow Bridge opened in 1902. It was designed by Mina Castell and crosses the Dell river. "
    "It is 210 metres long."
)
QA_EXAMPLE_PAIRS = (
    QAPair("When did the Harlow Bridge open?", "1902"),
    QAPair("Who designed the Harlow Bridge?", "Mina Castell"),
    QAPair("How long is the Harlow Bridge?", "210 metres"),
)
QA_PREFIX = "Q:"
"""The assistant turn is begun with the first line marker, so even a 135M model stays in the format."""


def rewrite_user_turn(passage: str) -> str:
    return f"{REWRITE_INSTRUCTION}\n\nPassage: {passage}"


def qa_user_turn(passage: str) -> str:
    """One-shot, line-based Q:/A: format: measured reliable on SmolLM2-135M where the paper's JSON is not."""
    example = "\n".join(f"Q: {p.question}\nA: {p.answer}" for p in QA_EXAMPLE_PAIRS)
    return (
        "Write questions about the passage, each with a short answer copied from the passage.\n\n"
        f"Passage: {QA_EXAMPLE_PASSAGE}\n\n{example}\n\nPassage: {passage}"
    )


def sentence_qa_user_turn(passage: str, sentence: str) -> str:
    """One question that one sentence of the passage answers. No worked example: Qwen2.5-Coder-0.5B
    copies an example's questions, and naming the sentence is what spreads the questions over the passage."""
    return (
        f"Passage: {passage}\n\nWrite a question about the passage whose answer is stated in this sentence: "
        f'"{sentence}"\nReply with one line "Q: <question>" and one line "A: <short answer copied from the sentence>".'
    )
