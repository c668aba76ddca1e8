"""Answering latency and throughput, side by side in one run, on the demo collection:

- per-question latency of closed, rag, prag and combine on the same questions (medians, ratios to rag),
  the modes interleaved question by question so that machine noise falls on all of them alike;
- `prag-disk`: P-RAG reading its adapters from disk for every question, as the original code does;
- the share of P-RAG's time spent loading and merging adapters, and applying them (the extra cost of
  the low-rank path inside generation, measured with and without it on a fixed number of tokens);
- throughput for a file of questions: one at a time against batches with per-question adapter sets;
- every mode's time for all questions at each batch size (what `AnswerConfig.batch_size` and
  `short_batch_size` were set from).

    .venv/bin/python bench/answer.py [--home DIR] [--batch-sizes 8,16,24,48]

Builds the demo collection first if the home lacks it (not timed).
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch

from prag.process import configure_process

configure_process()  # a benchmark is a process prag starts

from prag import Mode, Prag, Settings
from prag.types import CORE_MODES
from prag.engine import Engine
from prag.eval import demo
from prag.lora import factors_for_batch
from prag.model.prompts import ANSWER_PREFIX, answer_user_turn
from prag.store.adapters import AdapterCache

FIXED_TOKENS = 16


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--home", default=None)
    parser.add_argument("--batch-sizes", default="8,16,24,48")
    args = parser.parse_args()

    prag = Prag(args.home, collection="demo", settings=Settings())
    prag.add([demo.documents_file()])
    prag.build()
    questions = [q.question for q in demo.questions()]
    engine = prag.engine
    resident = engine.preload()
    from_disk = Engine(engine.generator, engine.index, engine.documents, AdapterCache(prag.runtime.adapter_store, 0), engine.config)
    engine.ask(questions[0], Mode.PRAG)  # first-call set-up is not timed
    print(f"{len(questions)} demo questions, model {prag.model_spec}, {resident} adapters resident in memory")

    timings: dict[str, list[dict[str, float]]] = {m: [] for m in ("closed", "rag", "prag", "combine", "prag-disk")}
    for question in questions:
        for mode in CORE_MODES:
            timings[mode.value].append(engine.ask(question, mode).timings)
        timings["prag-disk"].append(from_disk.ask(question, Mode.PRAG).timings)

    rag = statistics.median(t["total"] for t in timings["rag"])
    print("\nmode      | median s | x rag | median generate s")
    for mode, rows in timings.items():
        total = statistics.median(t["total"] for t in rows)
        print(f"{mode:<9} | {total:8.3f} | {total / rag:5.2f} | {statistics.median(t['generate'] for t in rows):.3f}")

    prag_rows = timings["prag"]
    load_share = statistics.median((t["load"] + t["merge"]) / t["total"] for t in prag_rows)
    disk_share = statistics.median(t["load"] / t["total"] for t in timings["prag-disk"])
    apply_fraction = apply_cost(prag, engine, questions)
    generate_share = statistics.median(t["generate"] / t["total"] for t in prag_rows)
    print(
        f"\nP-RAG, adapters resident: load + merge = {100 * load_share:.2f}% of a question's time; applying the "
        f"low-rank path = {100 * apply_fraction:.1f}% of generation = {100 * apply_fraction * generate_share:.1f}% "
        f"of the question; together {100 * (load_share + apply_fraction * generate_share):.1f}%"
    )
    print(f"P-RAG reading adapters from disk each time: loading = {100 * disk_share:.1f}% of a question's time")

    print("\nthroughput, P-RAG, all questions:")
    start = time.perf_counter()
    for question in questions:
        engine.ask(question, Mode.PRAG)
    one_rate = len(questions) / (time.perf_counter() - start)
    print(f"  one at a time: {one_rate:.2f} questions/s")
    sizes = [int(s) for s in args.batch_sizes.split(",")]
    for size in sizes:
        rate = len(questions) / batched_seconds(engine, questions, Mode.PRAG, size)
        print(f"  batches of {size:>2}: {rate:.2f} questions/s = {rate / one_rate:.1f}x")

    # Which batch suits which prompt: AnswerConfig.batch_size (prompts with passages) and short_batch_size.
    print("\nseconds for all questions, per mode and questions per generation (x the first size):")
    for mode in CORE_MODES:
        seconds = [batched_seconds(engine, questions, mode, size) for size in sizes]
        cells = " | ".join(f"{size}: {s:6.1f} s ({s / seconds[0]:.2f}x)" for size, s in zip(sizes, seconds))
        print(f"  {mode.value:<8} {cells}")


def batched_seconds(engine: Engine, questions: list[str], mode: Mode, size: int) -> float:
    start = time.perf_counter()
    for first in range(0, len(questions), size):
        engine.ask_many(questions[first : first + size], mode)
    return time.perf_counter() - start


def apply_cost(prag: Prag, engine: Engine, questions: list[str]) -> float:
    """Fraction of generation time due to the low-rank path: the same prompts, exactly FIXED_TOKENS new
    tokens each, with the retrieved adapters plugged in and without."""
    generator = prag.runtime.generator
    with_path, without = [], []
    for question in questions:
        prompt = generator.chat_prompt(answer_user_turn(question), ANSWER_PREFIX)
        batch = generator.tokenizer([prompt], return_tensors="pt", add_special_tokens=False)
        factors = factors_for_batch([engine.load_adapters(engine.retrieve(question, engine.config.top_k))])
        for plugged, times in ((factors, with_path), (None, without)):
            start = time.perf_counter()
            with torch.inference_mode(), generator.plug.plugged(plugged):
                generator.model.generate(
                    **batch, min_new_tokens=FIXED_TOKENS, max_new_tokens=FIXED_TOKENS, do_sample=False,
                    pad_token_id=generator.tokenizer.pad_token_id,
                )
            times.append(time.perf_counter() - start)
    plugged_time, plain_time = statistics.median(with_path), statistics.median(without)
    return max(0.0, (plugged_time - plain_time) / plugged_time)


if __name__ == "__main__":
    main()
