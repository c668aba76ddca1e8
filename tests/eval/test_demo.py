"""`prag demo`'s run on the tiny model: the bundled collection built, every core mode scored."""

from __future__ import annotations

from dataclasses import replace

from prag.eval import demo
from prag.types import CORE_MODES

from tests.conftest import FAST

QUICK = replace(FAST, augment=replace(FAST.augment, rewrite_tokens=8, qa_tokens_per_pair=4, max_attempts=1))
"""The demo's 24 documents, augmented as briefly as possible: this checks the run, not its scores."""


def test_the_demo_builds_its_collection_and_scores_every_core_mode(tiny_model_dir, tmp_path):
    stages = []

    class Recorded:
        def stage(self, name: str, total: int):
            stages.append((name, total))
            return lambda n=1: None

    scores = demo.run_demo(tmp_path / "home", str(tiny_model_dir), Recorded(), QUICK)
    documents = len(demo.documents_file().read_text().splitlines())
    assert [s.mode for s in scores] == list(CORE_MODES)
    assert all(0 <= s.em <= 100 and 0 <= s.f1 <= 100 and s.latency > 0 for s in scores)
    assert ("augment", documents) in stages and ("encode", documents) in stages
    assert ("answer", len(demo.questions()) * len(CORE_MODES)) in stages
    # A second run finds everything built and only answers.
    stages.clear()
    demo.run_demo(tmp_path / "home", str(tiny_model_dir), Recorded(), QUICK)
    assert ("augment", 0) in stages and ("encode", 0) in stages
