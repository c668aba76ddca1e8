"""Does the chain-of-thought answer keep its format when passages are in the prompt?

On dev questions (default 100-111 of HotpotQA-500: settings are chosen on 100-199, results reported
on 0-99, 300-499 reserved) with their BM25 top-3 passages from the file's corpus, counts the
generations that reach "the answer is" — the phrase the paper's protocol scores after — for the
reference code's order (worked examples, then passages) and prag's (passages, then worked examples
next to the question).

    .venv/bin/python bench/cot_format.py --model qwen-coder-0.5b [--slice 100:112]
"""

from __future__ import annotations

import argparse
from pathlib import Path

from prag.process import configure_process

configure_process()  # a benchmark is a process prag starts

from prag.config import AnswerConfig
from prag.engine.prompting import AnswerPrompt
from prag.eval.benchmark import slice_argument
from prag.eval.datasets import load
from prag.model import loader
from prag.model.exemplars import EXEMPLARS
from prag.model.generate import Generator
from prag.model.prompts import COT_INSTRUCTION, COT_PREFIX, cot_user_turn
from prag.paths import model_cache, prag_home
from prag.retrieve import BM25Index
from quality_sweep import check_slice  # the reserved questions, defined once for the benchmarks

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "hotpotqa" / "HotpotQA_500_benchmark.json"


def examples_first(question: str, passages: list[str], exemplars) -> str:
    """The reference code's order."""
    examples = "".join(f"Question: {e.question}\nAnswer: {e.answer}\n\n" for e in exemplars)
    context = "".join(f"Passage {i}: {p}\n" for i, p in enumerate(passages, start=1))
    return f"{COT_INSTRUCTION}\n\nExamples:\n{examples}Passages:\n{context}\nQuestion: {question.strip()}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="qwen-coder-0.5b")
    parser.add_argument("--slice", type=slice_argument, default=(100, 112), help="START:END, on the dev range")
    args = parser.parse_args()
    check_slice(args.slice)
    bench = load("hotpotqa", DATA)
    corpus = {d.id: d for d in bench.corpus()}
    index = BM25Index.build(list(corpus.values()))
    generator = Generator(loader.load(args.model, model_cache(prag_home())), ("gate_proj", "up_proj", "down_proj"))
    prompt = AnswerPrompt(generator, AnswerConfig(prompt="cot", exemplars="hotpotqa"))
    examples = bench.examples[slice(*args.slice)]
    passages = [[corpus[i].passage for i, _ in index.search(e.question, 3)] for e in examples]
    for name, turn in (("examples, then passages (reference)", examples_first), ("passages, then examples (prag)", cot_user_turn)):
        prompts = [generator.chat_prompt(turn(e.question, p, EXEMPLARS["hotpotqa"]), COT_PREFIX) for e, p in zip(examples, passages)]
        outputs = []
        for i in range(0, len(prompts), 6):
            outputs += generator.generate(prompts[i : i + 6], prompt.max_new_tokens, done=prompt.is_complete)
        stated = sum("the answer is" in o.lower() for o in outputs)
        print(f"{name}: {stated} of {len(outputs)} reach \"the answer is\"")


if __name__ == "__main__":
    main()
