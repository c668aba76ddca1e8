"""One document's parametric representation: low-rank factors per adapted projection."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import torch
from torch import Tensor


@dataclass(eq=False)
class LoRAAdapter:
    """ΔW_name = (alpha / rank) · B_name @ A_name, with A of shape (rank, in) and B of shape (out, rank), as in peft."""

    factors: dict[str, tuple[Tensor, Tensor]]
    """Module path (e.g. `model.layers.0.mlp.up_proj`) -> (A, B)."""
    rank: int
    alpha: float

    @property
    def scaling(self) -> float:
        return self.alpha / self.rank

    @property
    def nbytes(self) -> int:
        return sum(a.numel() * a.element_size() + b.numel() * b.element_size() for a, b in self.factors.values())

    @cached_property
    def low_rank_path(self) -> dict[str, tuple[Tensor, Tensor]]:
        """Per module (Aᵀ, s·Bᵀ), laid out as the unmerged path multiplies them; computed once, so a
        resident adapter costs nothing to prepare per question. For stored (immutable) adapters only."""
        return {n: (a.T.contiguous(), (self.scaling * b).T.contiguous()) for n, (a, b) in self.factors.items()}

    def delta_weight(self, name: str) -> Tensor:
        a, b = self.factors[name]
        return self.scaling * (b @ a)

    def scaled(self, weight: float) -> "LoRAAdapter":
        """The same adapter with its update multiplied by `weight` (its up factors scaled): w·ΔW, exactly."""
        return LoRAAdapter({n: (a, weight * b) for n, (a, b) in self.factors.items()}, self.rank, self.alpha)

    def non_finite(self) -> list[str]:
        """The projections whose factors hold a NaN or an infinity."""
        return [n for n, (a, b) in self.factors.items() if not (a.isfinite().all() and b.isfinite().all())]

    def detached(self) -> "LoRAAdapter":
        copied = {n: (a.detach().clone(), b.detach().clone()) for n, (a, b) in self.factors.items()}
        return LoRAAdapter(copied, self.rank, self.alpha)


def merged_delta(adapters: list[LoRAAdapter], name: str) -> Tensor:
    """The paper's ΔW_merge for one projection: the plain sum of the k updates (peft's `cat` combination)."""
    return torch.stack([adapter.delta_weight(name) for adapter in adapters]).sum(0)
