"""Valid-pair rate of document augmentation: the demo corpus and the first 50 paragraphs of HotpotQA-500.

    .venv/bin/python bench/augment_quality.py [--home DIR] [--hotpot ../shared/data/hotpotqa/HotpotQA_500_benchmark.json]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from prag.process import configure_process

configure_process()  # a benchmark is a process prag starts

from prag import Prag
from prag.eval import demo


def hotpot_paragraphs(path: Path, count: int) -> list[dict]:
    seen, out = set(), []
    for record in json.loads(path.read_text()):
        for title, sentences in record["context"]:
            text = " ".join(s.strip() for s in sentences).strip()
            if text and (title, text) not in seen:
                seen.add((title, text))
                out.append({"title": title, "text": text})
            if len(out) == count:
                return out
    return out


def rate(prag: Prag, files: list[Path]) -> str:
    prag.add(files)
    start = time.perf_counter()
    report = prag.build(encode=False)
    seconds = time.perf_counter() - start
    want = prag.settings.augment.qa_pairs
    valid = report.valid_pairs
    full = sum(v == want for v in valid)
    return (
        f"{prag.collection}: {len(valid)} documents, {sum(valid)}/{want * len(valid)} valid pairs "
        f"({100 * sum(valid) / max(want * len(valid), 1):.1f}%), {full} documents with all {want}, "
        f"{sum(v == 0 for v in valid)} with none; {seconds / max(len(valid), 1):.1f} s/document"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--home", default=None)
    parser.add_argument("--hotpot", default="../shared/data/hotpotqa/HotpotQA_500_benchmark.json")
    parser.add_argument("--paragraphs", type=int, default=50)
    args = parser.parse_args()
    print(rate(Prag(args.home, collection="demo"), [demo.documents_file()]), flush=True)
    if args.paragraphs == 0:
        return
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "hotpot.jsonl"
        rows = hotpot_paragraphs(Path(args.hotpot), args.paragraphs)
        path.write_text("".join(json.dumps(r) + "\n" for r in rows))
        print(rate(Prag(args.home, collection="hotpot50"), [path]), flush=True)


if __name__ == "__main__":
    main()
