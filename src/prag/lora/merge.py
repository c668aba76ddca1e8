"""Applies a merge (`config.Merge`: the paper's ΔW_merge, and the variants prag measures against it) to the
retrieved documents' adapters.

Every strategy is a weighted sum, ΔW = Σ_j w_j·ΔW_j − c·ΔW_start, and stays exact in low rank: a weight
scales an adapter's up factor (w·s·B_j A_j = (w·s·B_j) A_j), and subtracting the shared start is one more
adapter in the set with weight −c. So a merged set still runs through the per-sequence low-rank path of
`lora.layer`, each question with its own weights.
"""

from __future__ import annotations

from prag.config import Merge
from prag.lora.adapter import LoRAAdapter


def merged_set(merge: Merge, adapters: list[LoRAAdapter], scores: list[float], start: LoRAAdapter | None = None) -> list[LoRAAdapter]:
    """The set whose plain sum is `merge` of `adapters` (retrieval scores `scores`): each scaled by its
    weight, and the start once more with weight −(Σw − 1) when it is to be counted once."""
    if not adapters:
        return []
    weights = merge.weights(scores)
    merged = [a if w == 1 else a.scaled(w) for a, w in zip(adapters, weights)]
    surplus = sum(weights) - 1
    if merge.start_once and start is not None and surplus != 0:
        merged.append(start.scaled(-surplus))
    return merged
