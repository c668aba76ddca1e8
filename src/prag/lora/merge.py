"""Applies a merge (`config.Merge`: the paper's ΔW_merge, and the variants prag measures against it) to the
retrieved documents' adapters.

Every strategy is a weighted sum, ΔW = Σ_j w_j·ΔW_j − c·ΔW_common, and stays exact in low rank: a weight
scales an adapter's up factor (w·s·B_j A_j = (w·s·B_j) A_j), and subtracting a common part (the warm-up
start, or the shared component) is one more adapter in the set with weight −c. So a merged set still runs
through the per-sequence low-rank path of `lora.layer`, each question with its own weights.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from prag.config import Merge
from prag.lora.adapter import LoRAAdapter

SHARED_RANK = 8
"""Singular directions kept per projection of the shared component: the mean of many rank-2 updates has
rank up to 2N, but what they share lies in its first few directions (what the rest hold averages away as
1/N), and a small rank keeps the per-question path cheap."""

SHARED_SAMPLE = 256
"""At most this many adapters are averaged, the first by content hash: a fixed sample of the collection."""


@dataclass(frozen=True)
class SharedComponent:
    """The part every document's adapter shares, estimated from `adapters` of the collection's adapters."""

    adapter: LoRAAdapter
    adapters: int
    energy_kept: float
    """The share of the mean update's squared Frobenius norm its `SHARED_RANK` directions keep."""


def merged_set(
    merge: Merge, adapters: list[LoRAAdapter], scores: list[float], start: LoRAAdapter | None = None, shared: LoRAAdapter | None = None
) -> list[LoRAAdapter]:
    """The set whose plain sum is `merge` of `adapters` (retrieval scores `scores`): each scaled by its
    weight; then the start once more with weight −(Σw − 1) when it is to be counted once, or the shared
    component with weight −(Σw − C) when C copies of it are to be kept."""
    if not adapters:
        return []
    weights = merge.weights(scores)
    merged = [a if w == 1 else a.scaled(w) for a, w in zip(adapters, weights)]
    held = sum(weights)  # copies of a common part the weighted sum holds
    if merge.start_once and start is not None and held != 1:
        merged.append(start.scaled(1 - held))
    if merge.shared is not None and shared is not None and held != merge.shared:
        merged.append(shared.scaled(merge.shared - held))
    return merged


def shared_component(adapters: list[LoRAAdapter], rank: int = SHARED_RANK) -> SharedComponent:
    """The mean update ΔW̄ = (1/N) Σ_m ΔW_m of `adapters`, cut per projection to its top `rank` singular
    directions. ΔW̄ = B_cat A_cat with the factors stacked (Σ ranks wide), so its SVD comes from two thin
    QRs and the SVD of a small square core, never from the full out × in matrix."""
    if not adapters:
        raise ValueError("the shared component needs at least one adapter")
    factors, kept, total = {}, 0.0, 0.0
    for name in adapters[0].factors:
        a_cat = torch.cat([a.factors[name][0].float() for a in adapters])  # (Σ ranks, in)
        b_cat = torch.cat([a.scaling * a.factors[name][1].float() for a in adapters], 1) / len(adapters)  # (out, Σ ranks)
        q_b, r_b = torch.linalg.qr(b_cat)
        q_a, r_a = torch.linalg.qr(a_cat.T)
        u, s, vh = torch.linalg.svd(r_b @ r_a.T)
        r = min(rank, s.numel())
        factors[name] = ((vh[:r] @ q_a.T).contiguous(), (q_b @ u[:, :r] * s[:r]).contiguous())  # A (r, in), B (out, r)
        kept, total = kept + float((s[:r] ** 2).sum()), total + float((s**2).sum())
    width = next(iter(factors.values()))[0].shape[0]
    return SharedComponent(LoRAAdapter(factors, rank=width, alpha=float(width)), len(adapters), kept / total if total else 1.0)
