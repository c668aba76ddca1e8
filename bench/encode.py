"""Encoding speed, side by side in one run, on the same documents, model and training data:

1. `padded`   — the original recipe's loop: peft, one document at a time, batch size 1, every sequence
                padded to 3000 tokens (attention-masked, padding outside the loss);
2. `unpadded` — the same loop without the padding;
3. `prag`     — prag's encoder (many documents per forward pass, bucketed, logits only where the loss is);
4. `prag-bf16`— the same in bf16, where the CPU has native bf16.

Each variant runs in its own process (model load not timed) so that its peak memory is its own. Then the
floor: the time the machine's torch.matmul needs for the same matrix products at the same row count.

    .venv/bin/python bench/encode.py [--home DIR] [--docs 8] [--padded-docs 2] [--recipe paper]

The demo collection is augmented first if the home does not hold it yet (not timed). `--padded-docs`
limits the slow padded loop to the first K documents; its seconds per document are over those.
"""

from __future__ import annotations

import argparse
import multiprocessing
import resource
import statistics
import time
from dataclasses import replace

import torch

from prag.process import configure_process

configure_process()  # a benchmark is a process prag starts

from prag import RECIPES, Prag, Settings
from prag.encode import Encoder, TrainingPlan, plan_batches
from prag.eval import demo
from prag.model import loader
from prag.model.generate import Generator
from prag.paths import model_cache

PADDED_LENGTH = 3000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--home", default=None)
    parser.add_argument("--docs", type=int, default=8)
    parser.add_argument("--padded-docs", type=int, default=2)
    parser.add_argument("--recipe", default="paper", choices=sorted(RECIPES))
    parser.add_argument("--variants", default="padded,unpadded,prag,prag-bf16")
    args = parser.parse_args()

    recipe = RECIPES[args.recipe]
    prag = Prag(args.home, collection="demo", settings=Settings(recipe=recipe))
    prag.add([demo.documents_file()])
    prag.build(encode=False)
    documents = prag.documents()[: args.docs]
    items = [(d, prag.builder.augmentation(d)) for d in documents]
    planner = Encoder(prag.runtime.generator, recipe)
    plans = [planner.plan(doc, aug) for doc, aug in items]
    job = {"home": prag.home, "model": prag.model_spec, "recipe": recipe}

    print(f"model {prag.model_spec}, recipe {recipe.name} ({recipe.epochs} epoch(s), loss on {recipe.loss_on}), {len(items)} documents")
    results = {}
    context = multiprocessing.get_context("spawn")
    for variant in args.variants.split(","):
        if variant == "prag-bf16" and not loader.cpu_has_bf16():
            print("prag-bf16: skipped, this CPU has no native bf16")
            continue
        count = args.padded_docs if variant == "padded" else len(items)
        with context.Pool(1) as pool:
            results[variant] = pool.apply(run_variant, (variant, {**job, "items": items[:count], "plans": plans[:count]}))
        r = results[variant]
        print(
            f"{variant:>10}: {r['seconds'] / r['docs']:7.2f} s/doc over {r['docs']} doc(s), "
            f"{r['tokens']} tokens ({r['padded_tokens']} with padding), peak RSS {r['peak_gb']:.2f} GB",
            flush=True,
        )

    per_doc = {v: r["seconds"] / r["docs"] for v, r in results.items()}
    for fast in ("prag", "prag-bf16"):
        for slow in ("padded", "unpadded"):
            if fast in per_doc and slow in per_doc:
                print(f"speed-up {fast} vs {slow}: {per_doc[slow] / per_doc[fast]:.1f}x")
    for variant, precision in (("prag", "fp32"), ("prag-bf16", "bf16")):
        if variant in results:
            report_floor(results[variant], precision, job)


def run_variant(variant: str, job: dict) -> dict:
    torch.manual_seed(0)
    precision = "bf16" if variant == "prag-bf16" else "fp32"
    recipe = replace(job["recipe"], precision=precision)
    loaded = loader.load(job["model"], model_cache(job["home"]), precision)
    if variant.startswith("prag"):
        result = time_prag(loaded, recipe, job["items"])
    else:
        result = time_reference(loaded, recipe, job["plans"], PADDED_LENGTH if variant == "padded" else None)
    result["docs"] = len(job["items"])
    result["peak_gb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    return result


def time_prag(loaded, recipe, items) -> dict:
    encoder = Encoder(Generator(loaded, recipe.target_modules), recipe)
    plans = [encoder.plan(doc, aug) for doc, aug in items]
    start = time.perf_counter()
    for _ in encoder.encode_many(items):
        pass
    seconds = time.perf_counter() - start
    tokens, loss_tokens, rows = 0, 0, []
    for batch in plan_batches(plans, encoder.limits):
        for step in range(max(len(plans[i].schedule) for i in batch)):
            seqs = [plans[i].sequences[plans[i].schedule[step]] for i in batch if step < len(plans[i].schedule)]
            tokens += sum(len(s.input_ids) for s in seqs)
            loss_tokens += sum(sum(s.in_loss[1:]) for s in seqs)
            rows.append(len(seqs) * max(len(s.input_ids) for s in seqs))
    return {"seconds": seconds, "tokens": tokens, "loss_tokens": loss_tokens, "padded_tokens": sum(rows), "rows_per_step": rows}


def time_reference(loaded, recipe, plans: list[TrainingPlan], pad_to: int | None) -> dict:
    """peft around the plain Hugging Face model, as the original code trains: every document restarts
    from one saved initial LoRA, batch size 1, the model's own loss over the full vocabulary."""
    from peft import LoraConfig, get_peft_model, set_peft_model_state_dict
    from peft.utils import get_peft_model_state_dict

    config = LoraConfig(r=recipe.rank, lora_alpha=recipe.alpha, lora_dropout=0.0, target_modules=list(recipe.target_modules))
    model = get_peft_model(loaded.model, config)
    initial = {k: v.clone() for k, v in get_peft_model_state_dict(model).items()}
    pad_id = loaded.tokenizer.pad_token_id
    tokens = padded = 0
    start = time.perf_counter()
    for plan in plans:
        set_peft_model_state_dict(model, initial)
        params = [p for p in model.parameters() if p.requires_grad]
        optimizer = torch.optim.AdamW(params, lr=recipe.learning_rate, weight_decay=recipe.weight_decay)
        model.train()
        for sequence in (plan.sequences[i] for i in plan.schedule):
            ids = torch.tensor([sequence.input_ids])
            labels = ids.masked_fill(~torch.tensor([sequence.in_loss]), -100)
            mask = torch.ones_like(ids)
            if pad_to is not None:
                extra = pad_to - ids.shape[1]
                ids = torch.nn.functional.pad(ids, (0, extra), value=pad_id)
                labels = torch.nn.functional.pad(labels, (0, extra), value=-100)
                mask = torch.nn.functional.pad(mask, (0, extra), value=0)
            optimizer.zero_grad()
            model(input_ids=ids, attention_mask=mask, labels=labels).loss.backward()
            optimizer.step()
            tokens += len(sequence.input_ids)
            padded += ids.shape[1]
    return {"seconds": time.perf_counter() - start, "tokens": tokens, "padded_tokens": padded}


def report_floor(result: dict, precision: str, job: dict) -> None:
    """The matrix products of a forward and a backward pass (input gradients only: the base is frozen)
    for every projection and the vocabulary head, timed with torch.matmul at prag's median rows per step."""
    loaded = loader.load(job["model"], model_cache(job["home"]), precision)
    dtype = loader.torch_dtype(precision)
    shapes = [(m.in_features, m.out_features) for m in loaded.model.get_decoder().modules() if isinstance(m, torch.nn.Linear)]
    head = loaded.model.get_output_embeddings()
    rows = int(statistics.median(result["rows_per_step"]))
    body_params = sum(i * o for i, o in shapes)
    head_params = head.in_features * head.out_features
    body_seconds = sum(matmul_seconds(rows, i, o, dtype) + matmul_seconds(rows, o, i, dtype) for i, o in shapes)
    head_rows = max(1, rows * result["loss_tokens"] // max(result["tokens"], 1))
    head_seconds = matmul_seconds(head_rows, head.in_features, head.out_features, dtype) + matmul_seconds(
        head_rows, head.out_features, head.in_features, dtype
    )
    rate = 4 * (body_params * rows + head_params * head_rows) / (body_seconds + head_seconds)
    flops = 4 * (body_params * result["tokens"] + head_params * result["loss_tokens"])
    achieved = flops / result["seconds"]
    print(
        f"{precision}: needed {flops / 1e12:.2f} TFLOP (4 x {body_params / 1e6:.0f}M body params x {result['tokens']} tokens "
        f"+ 4 x {head_params / 1e6:.0f}M head params x {result['loss_tokens']} loss positions); "
        f"prag {achieved / 1e9:.0f} GFLOP/s vs matmul {rate / 1e9:.0f} GFLOP/s at {rows} rows: "
        f"floor {flops / rate:.1f} s, prag {result['seconds']:.1f} s = {result['seconds'] / (flops / rate):.2f}x the floor"
    )


def matmul_seconds(rows: int, inner: int, outer: int, dtype: torch.dtype, repeats: int = 5) -> float:
    x = torch.randn(rows, inner, dtype=dtype)
    w = torch.randn(inner, outer, dtype=dtype)
    torch.matmul(x, w)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        torch.matmul(x, w)
        times.append(time.perf_counter() - start)
    return min(times)


if __name__ == "__main__":
    main()
