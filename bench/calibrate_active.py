"""Calibrates FLARE's and DRAGIN's retrieval thresholds on held-out questions, never the evaluated slice.

For dev questions (default 100-107 of HotpotQA-500 and 2Wiki-500: settings are chosen on 100-199,
results reported on 0-99, 300-499 reserved), it generates the first chain-of-thought sentence
closed-book and prints, per sentence, DRAGIN's largest RIND score and FLARE's lowest token
probability, then their quantiles: a threshold's share of triggering sentences can be read off directly.

    .venv/bin/python bench/calibrate_active.py --model qwen-coder-0.5b [--slice 100:108]
"""

from __future__ import annotations

import argparse
from pathlib import Path

from prag.process import configure_process

configure_process()  # a benchmark is a process prag starts

from prag.config import AnswerConfig
from prag.engine.active import is_significant, sentence_length
from prag.engine.prompting import AnswerPrompt
from prag.text import first_sentence, sentence_done
from prag.eval.benchmark import slice_argument
from prag.eval.datasets import load
from prag.model import loader
from prag.model.generate import Generator
from prag.paths import model_cache, prag_home
from quality_sweep import check_slice  # the reserved questions, defined once for the benchmarks

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
FILES = {
    "hotpotqa": DATA / "hotpotqa" / "HotpotQA_500_benchmark.json",
    "2wikimultihopqa": DATA / "2wikimultihopqa" / "2WikiMultihopQA_500_benchmark.json",
}


def largest_rind(scored, n: int) -> float:
    values = [
        scored.entropies[i] * scored.attention[i + 1 : n, scored.prompt_length + i].max().item()
        for i in range(n - 1)
        if is_significant(scored.pieces[i])
    ]
    return max(values, default=0.0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="qwen-coder-0.5b")
    parser.add_argument("--slice", type=slice_argument, default=(100, 108), help="START:END of each file, on the dev range")
    args = parser.parse_args()
    check_slice(args.slice)
    generator = Generator(loader.load(args.model, model_cache(prag_home())), ("gate_proj", "up_proj", "down_proj"))
    rind, lowest = [], []
    for dataset, path in FILES.items():
        examples = load(dataset, path).examples[slice(*args.slice)]
        prompt = AnswerPrompt(generator, AnswerConfig(prompt="cot", exemplars=dataset))
        outputs = generator.generate_scored([prompt.text(e.question) for e in examples], 48, sentence_done, True)
        for scored in outputs:
            sentence = first_sentence(scored.text)
            n = sentence_length(scored, sentence)
            rind.append(largest_rind(scored, n))
            lowest.append(min(scored.probs[:n], default=1.0))
            print(f"RIND {rind[-1]:.3f}  min p {lowest[-1]:.3f}  {sentence.strip()[:90]!r}")
    for name, values in (("largest RIND", sorted(rind)), ("lowest token probability", sorted(lowest))):
        quantiles = {q: values[int(q * len(values))] for q in (0.1, 0.25, 0.5, 0.75, 0.9)}
        print(f"{name}: " + ", ".join(f"q{int(100 * q)} {v:.3f}" for q, v in quantiles.items()))


if __name__ == "__main__":
    main()
