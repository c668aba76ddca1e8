"""The gold answer's likelihood under each method: how much more probable a question's own adapters make
its gold answer than no adapters, or than another question's adapters, when the answer is stated at once
("So the answer is …") in the prompt every method answers with. A generated answer's F1 changes only
when an adapter moves the greedy choice, so on 50 questions its differences are mostly noise; the gold
answer's log-probability moves with every bit of knowledge the adapters carry. This is the knowledge
probe behind issue 16's "P-RAG injects knowledge": P-RAG − closed-book and P-RAG − the foreign control
(the next question's adapters, merged alike), Combine − RAG and Combine − its foreign control, in nats
per question (the best-scored gold alias), with paired 95 % bootstrap intervals and by question type.

    .venv/bin/python bench/answer_likelihood.py --model qwen-coder-0.5b --dataset 2wikimultihopqa --slice 100:150 \\
        --home H --recipe "$S" --precision bf16 --prag-merges score:0.17,sum --combine-merges mean:0.25+shared:0 --out FILE.jsonl

It generates no answer. It augments and encodes, with the recipe, the retrieved documents that have no
adapter in `--home` yet (none, after the sweep or `prag eval` ran with the same recipe and retrieval), and
with `--gold-adapters` the supporting paragraphs. With `--retrieval links` every method retrieves by
following the titles BM25's passages name (`prag.retrieve.links`). Each question's scores are appended to
`--out` as they are measured, so a rerun resumes, and a rerun with more merges adds only their conditions;
the file's first line names the recipe, slice, top-k and retrieval, and refuses others.
"""

from __future__ import annotations

from prag.process import configure_process

configure_process()  # a benchmark is a process prag starts

import argparse  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from dataclasses import dataclass, replace  # noqa: E402
from pathlib import Path  # noqa: E402
from statistics import fmean  # noqa: E402

from prag import Prag, __version__  # noqa: E402
from prag.config import RETRIEVALS, Merge, parse_merge  # noqa: E402
from prag.cli.progress import LogProgress  # noqa: E402
from prag.engine import Engine  # noqa: E402
from prag.engine.engine import StandIns  # noqa: E402
from prag.eval import datasets  # noqa: E402
from prag.eval.benchmark import eval_collection, slice_argument  # noqa: E402
from prag.eval.controls import stand_ins  # noqa: E402
from prag.eval.report import bootstrap_interval  # noqa: E402
from prag.lora import factors_for_batch  # noqa: E402
from prag.types import Document, Mode  # noqa: E402
from quality_sweep import BASE_TOP_K, FILES, check_slice, setting  # noqa: E402

BASES = {"closed": Mode.CLOSED, "rag": Mode.RAG}
"""The conditions without adapters; each adapter condition is named `METHOD MERGE`, and `…/foreign` with
the next question's adapters standing in for the question's own (merged alike)."""
GOLD = "gold passages"
"""RAG's prompt with the question's supporting paragraphs instead of the retrieved ones (the ceiling)."""
BASE_OF = {Mode.PRAG: "closed", Mode.COMBINE: "rag"}
"""What each adapter method is read against: its prompt without the adapters."""


@dataclass(frozen=True)
class Condition:
    name: str
    mode: Mode
    engine: Engine
    foreign: bool = False
    """The next question's adapters instead of the question's own."""
    gold: bool = False
    """The question's supporting paragraphs (passages, adapters or both, as the mode uses them) instead of
    BM25's top-k: the method given the right documents, apart from retrieval."""

    @property
    def against(self) -> str:
        """The condition this one is read against: the same prompt without adapters."""
        return GOLD if self.gold and self.mode is Mode.COMBINE else BASE_OF[self.mode]


def conditions(engine: Engine, merges: dict[Mode, list[Merge]], gold_adapters: bool) -> list[Condition]:
    """The base conditions, then every adapter method under each of its merges, own and foreign (and with
    the gold documents' adapters); the merges' engines share the loaded model, index and adapter cache."""
    listed = [Condition(name, mode, engine) for name, mode in BASES.items()] + [Condition(GOLD, Mode.RAG, engine, gold=True)]
    for mode, mode_merges in merges.items():
        for merge in mode_merges:
            merged = Engine(engine.generator, engine.index, engine.documents, engine.adapters,
                            replace(engine.config, merge=merge, combine_merge=None), start=engine.start)
            name = f"{mode.value} {merge.label}"
            listed += [Condition(name, mode, merged), Condition(f"{name}/foreign", mode, merged, foreign=True)]
            if gold_adapters:
                listed += [Condition(f"{name} gold", mode, merged, gold=True), Condition(f"{name} gold/foreign", mode, merged, True, True)]
    return listed


class Probe:
    """Scores one question's gold aliases under conditions; `gold_documents` maps each question to its
    supporting paragraphs as the collection holds them, `foreign` and `next_question` give the stand-ins."""

    def __init__(self, examples: list[datasets.Example], gold_documents: dict[str, list[Document]], foreign: StandIns):
        self.gold_documents = gold_documents
        self.foreign = foreign
        self.next_question = {e.id: examples[(i + 1) % len(examples)].id for i, e in enumerate(examples)}

    def scores(self, example: datasets.Example, wanted: list[Condition]) -> dict[str, float]:
        return {c.name: max(self.logprobs(example, c)) for c in wanted}

    def logprobs(self, example: datasets.Example, c: Condition) -> list[float]:
        golds = list(example.golds)
        if not c.gold:
            return c.engine.answer_logprobs(example.question, c.mode, golds, stand_ins=self.foreign if c.foreign else None)
        documents = self.gold_documents[example.id]
        passages = [d.passage for d in documents] if c.mode.uses_passages else None
        factors = None
        if c.mode.uses_adapters:
            injected = self.gold_documents[self.next_question[example.id]] if c.foreign else documents
            equal = dict.fromkeys(injected, 1.0)  # supporting paragraphs have no retrieval score: weighted alike
            factors = factors_for_batch([c.engine.merged(c.mode, c.engine.load_adapters(injected), injected, equal)])
        return c.engine.stated_logprobs(example.question, passages, factors, golds)


def gold_documents_of(examples: list[datasets.Example], corpus: list[Document]) -> dict[str, list[Document]]:
    """Each question's supporting paragraphs as the collection's documents (the corpus is deduplicated on
    title and text, so a paragraph is matched by its content)."""
    by_content = {d.content_hash: d for d in corpus}
    return {e.id: [by_content[d.content_hash] for d in e.contexts if d.id in e.gold_ids] for e in examples}


def open_results(path: Path, header: dict) -> dict[str, dict]:
    """Each question's scores measured so far under this header (a later line adds conditions to an
    earlier one's); a new file starts with the header."""
    if not path.exists() or path.stat().st_size == 0:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(header) + "\n")
        return {}
    text = path.read_text()
    if not text.endswith("\n"):  # a run stopped mid-line: drop the torn row, measured again below
        text = text[: text.rfind("\n") + 1]
        path.write_text(text)
    first, *lines = text.splitlines()
    stored = json.loads(first)
    differing = {k: (stored.get(k), v) for k, v in header.items() if k != "prag_version" and stored.get(k) != v}
    if differing:
        raise SystemExit(f"{path} holds another measurement ({differing}): give another --out")
    done: dict[str, dict] = {}
    for row in map(json.loads, filter(str.strip, lines)):
        done.setdefault(row["id"], {"id": row["id"], "type": row["type"], "logp": {}})["logp"].update(row["logp"])
    return done


def difference_line(rows: list[dict], first: str, second: str) -> str:
    diffs = [r["logp"][first] - r["logp"][second] for r in rows]
    low, high = bootstrap_interval(diffs, scale=1.0) or (float("nan"), float("nan"))
    by_type = ", ".join(
        f"{t} {fmean(d for d, r in zip(diffs, rows) if r['type'] == t):+.2f}" for t in sorted({r["type"] for r in rows})
    )
    won, lost = sum(d > 0 for d in diffs), sum(d < 0 for d in diffs)
    return f"| {first} − {second} | {fmean(diffs):+.2f} [{low:+.2f}, {high:+.2f}] | {won} / {lost} | {by_type} |"


def print_tables(rows: list[dict], listed: list[Condition]) -> None:
    types = sorted({r["type"] for r in rows})
    names = [c.name for c in listed]
    print(f"\n{len(rows)} questions; mean log p of the best gold alias, nats (higher: the answer more probable)\n")
    print("| condition | all | " + " | ".join(f"{t} ({sum(r['type'] == t for r in rows)})" for t in types) + " |")
    print("|---|---|" + "---|" * len(types))
    for name in names:
        cells = [fmean(r["logp"][name] for r in rows if r["type"] == t) for t in types]
        print(f"| {name} | {fmean(r['logp'][name] for r in rows):.2f} | " + " | ".join(f"{c:.2f}" for c in cells) + " |")
    print("\n| paired difference | mean [95 %] | more / less probable | by type |\n|---|---|---|---|")
    pairs = [("rag", "closed"), (GOLD, "rag")]
    for c in listed:
        if c.mode.uses_adapters and not c.foreign:
            pairs += [(c.name, c.against), (c.name, f"{c.name}/foreign")]
    for first, second in pairs:
        print(difference_line(rows, first, second))


def merge_list(text: str) -> list[Merge]:
    return [parse_merge(spec) for spec in filter(None, text.split(","))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--home", type=Path, default=None)
    parser.add_argument("--model", default="qwen-coder-0.5b")
    parser.add_argument("--dataset", choices=sorted(FILES), default="2wikimultihopqa")
    parser.add_argument("--slice", type=slice_argument, default=(100, 150), help="START:END, questions in file order")
    parser.add_argument("--recipe", required=True, help="RECIPE[@FIELD=VALUE…], as bench/quality_sweep.py spells a setting's recipe")
    parser.add_argument("--precision", default=None, help="the training arithmetic the adapters were made with (it names them)")
    parser.add_argument("--top-k", type=int, default=BASE_TOP_K)
    parser.add_argument("--retrieval", choices=RETRIEVALS, default="bm25", help="how every method finds its top-k (AnswerConfig.retrieval)")
    parser.add_argument("--prag-merges", default="", help="comma-separated merges P-RAG is scored under, e.g. sum,score:0.17")
    parser.add_argument("--combine-merges", default="", help="comma-separated merges Combine is scored under, e.g. mean:0.25+shared:0")
    parser.add_argument("--gold-adapters", action="store_true", help="also score each adapter method with the supporting paragraphs' own adapters (encoding those not yet encoded)")
    parser.add_argument("--out", type=Path, required=True, help="JSON lines; a rerun resumes, and adds the conditions a file lacks")
    args = parser.parse_args()
    check_slice(args.slice)
    if args.top_k < 1:
        parser.error(f"--top-k must be at least 1, got {args.top_k}")

    _, settings, _ = setting(f"{args.recipe}/sum/k{args.top_k}", args.precision)
    answer = replace(datasets.asked_as(settings.answer, args.dataset, "cot"), top_k=args.top_k, retrieval=args.retrieval)
    benchmark = datasets.load(args.dataset, FILES[args.dataset])
    examples = [e for e in benchmark.examples[slice(*args.slice)] if e.gold_ids]
    prag = Prag(args.home, collection=eval_collection(args.dataset, benchmark.corpus()), model=args.model, settings=replace(settings, answer=answer))
    gold_documents = gold_documents_of(examples, prag.documents())
    retrieved = {e.id: [d.id for d in prag.engine.retrieve(e.question, args.top_k)] for e in examples}
    needed = {doc_id for ids in retrieved.values() for doc_id in ids}
    if args.gold_adapters:  # augmented and encoded like any retrieved document
        needed |= {d.id for docs in gold_documents.values() for d in docs}
    prag.build(LogProgress(sys.stderr, every_s=60), only=needed)  # kept in the home: a rerun skips them
    engine = prag.engine
    merges = {Mode.PRAG: merge_list(args.prag_merges), Mode.COMBINE: merge_list(args.combine_merges)}
    listed = conditions(engine, merges, args.gold_adapters)
    header = {
        "dataset": args.dataset, "slice": list(args.slice), "model": args.model, "recipe_hash": prag.runtime.recipe_key,
        "top_k": args.top_k, "prompt": answer.prompt, "prag_version": __version__,
    }
    if args.retrieval != "bm25":  # files written before retrieval was a setting hold BM25's
        header["retrieval"] = args.retrieval
    done = open_results(args.out, header)
    probe = Probe(examples, gold_documents, stand_ins("foreign", engine, None, examples, retrieved))
    with args.out.open("a") as out:
        for i, example in enumerate(examples):
            have = done.get(example.id, {}).get("logp", {})
            wanted = [c for c in listed if c.name not in have]
            if not wanted:
                continue
            started = time.perf_counter()
            row = {"id": example.id, "type": example.type, "logp": probe.scores(example, wanted)}
            out.write(json.dumps(row) + "\n")
            out.flush()
            done.setdefault(example.id, {"id": example.id, "type": example.type, "logp": {}})["logp"].update(row["logp"])
            print(f"{time.strftime('%H:%M:%S')} {i + 1}/{len(examples)} {time.perf_counter() - started:.1f} s", file=sys.stderr, flush=True)
    print(f"{args.dataset} {args.slice[0]}-{args.slice[1] - 1}, {args.model}, recipe {args.recipe}, top-{args.top_k}, retrieval {args.retrieval}")
    print_tables([done[e.id] for e in examples], listed)


if __name__ == "__main__":
    main()
