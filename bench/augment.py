"""Augmentation throughput, one document at a time against batched, side by side in one run, on the
same documents and model: generated tokens per second, and whether the greedy outputs are identical.

    .venv/bin/python bench/augment.py [--home DIR] [--docs 8] [--batch-sizes 1,8,16]

Rewrites and the first QA attempt are greedy and must match the one-at-a-time run exactly; later QA
attempts sample, and a batch draws its random numbers in another order, so those may differ.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import replace

from prag.process import configure_process

configure_process()  # a benchmark is a process prag starts

from prag import Prag, Settings
from prag.augment import Augmenter
from prag.eval import demo


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--home", default=None)
    parser.add_argument("--docs", type=int, default=8)
    parser.add_argument("--batch-sizes", default="1,8,16")
    args = parser.parse_args()

    prag = Prag(args.home, collection="demo", settings=Settings())
    prag.add([demo.documents_file()])
    documents = prag.documents()[: args.docs]
    generator = prag.runtime.generator
    generator.generate([generator.chat_prompt("Say hello.")], 4)  # first-call set-up is not timed

    runs = {}
    for size in (int(s) for s in args.batch_sizes.split(",")):
        augmenter = Augmenter(generator, replace(prag.settings.augment, batch_size=size))
        before = generator.generated_tokens
        start = time.perf_counter()
        augmentations = [aug for _, aug in augmenter.augment(documents)]
        seconds = time.perf_counter() - start
        tokens = generator.generated_tokens - before
        runs[size] = (tokens / seconds, augmentations)
        print(f"batch {size:>3}: {tokens} tokens in {seconds:.1f} s = {tokens / seconds:.1f} tokens/s, {seconds / len(documents):.1f} s/doc", flush=True)

    base_rate, base = runs[min(runs)]
    for size, (rate, augmentations) in sorted(runs.items()):
        same_rewrites = sum(a.rewrites == b.rewrites for a, b in zip(augmentations, base))
        first_attempt = [(a, b) for a, b in zip(augmentations, base) if a.attempts == b.attempts == 1]
        same_pairs = sum(a.qa_pairs == b.qa_pairs for a, b in first_attempt)
        print(
            f"batch {size:>3}: {rate / base_rate:.1f}x the one-at-a-time token rate; rewrites identical "
            f"{same_rewrites}/{len(base)}; QA pairs identical {same_pairs}/{len(first_attempt)} where both "
            f"finished in the greedy attempt"
        )


if __name__ == "__main__":
    main()
