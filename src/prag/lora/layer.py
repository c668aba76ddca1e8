"""LoRA layers whose factors are plugged in per forward pass, one set per sequence of the batch.

Summing k low-rank updates is itself a low-rank update: with A_cat = [A_1; …; A_k] (kr × in) and
B_cat = [s·B_1, …, s·B_k] (out × kr), B_cat @ A_cat = Σ_j s·B_j A_j exactly. So a merged set of adapters
is applied as one unmerged path x ↦ x A_catᵀ B_catᵀ, and the base weights are never written. Sequences
with fewer adapters than others are padded with zero columns, which add exactly nothing.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from prag.lora.adapter import LoRAAdapter

Factors = dict[str, tuple[Tensor, Tensor]]
"""Module path -> (down, up): down (B|1, in, R), up (B|1, R, out), the scaling folded into `up`."""


class LoRALinear(nn.Module):
    """A frozen nn.Linear plus an optional low-rank path set from outside for the current forward."""

    def __init__(self, base: nn.Linear):
        super().__init__()
        self.base = base
        self.down: Tensor | None = None
        self.up: Tensor | None = None

    @property
    def in_features(self) -> int:
        return self.base.in_features

    @property
    def out_features(self) -> int:
        return self.base.out_features

    def forward(self, x: Tensor) -> Tensor:
        y = self.base(x)
        if self.down is None:
            return y
        # (B, T, in) @ (B|1, in, R) -> (B, T, R) @ (B|1, R, out) -> (B, T, out), the add fused into
        # the product: the low-rank path then costs no extra pass over the layer's output.
        low = x @ self.down
        return y.baddbmm_(low, self.up.expand(low.shape[0], -1, -1)) if y.dim() == 3 else y + low @ self.up


class LoRAPlug:
    """The LoRA layers injected into one model, and the single place where factors are plugged in."""

    def __init__(self, model: nn.Module, target_modules: tuple[str, ...]):
        self.layers: dict[str, LoRALinear] = inject(model, target_modules)
        if not self.layers:
            raise ValueError(f"no module named any of {target_modules} in {type(model).__name__}")

    @contextmanager
    def plugged(self, factors: Factors | None) -> Iterator[None]:
        if not factors:
            yield
            return
        missing = set(factors) - set(self.layers)
        if missing:
            raise KeyError(f"adapter names modules this model does not have: {sorted(missing)[:3]}")
        try:
            for name, (down, up) in factors.items():
                self.layers[name].down, self.layers[name].up = down, up
            yield
        finally:
            for layer in self.layers.values():
                layer.down = layer.up = None


def inject(model: nn.Module, target_modules: tuple[str, ...]) -> dict[str, LoRALinear]:
    """Wraps every nn.Linear whose attribute name is in `target_modules`; idempotent."""
    layers: dict[str, LoRALinear] = {}
    for parent_name, parent in list(model.named_modules()):
        for child_name, child in list(parent.named_children()):
            if child_name not in target_modules:
                continue
            path = f"{parent_name}.{child_name}" if parent_name else child_name
            if isinstance(child, LoRALinear):
                layers[path] = child
            elif isinstance(child, nn.Linear):
                wrapped = LoRALinear(child)
                setattr(parent, child_name, wrapped)
                layers[path] = wrapped
    return layers


def factors_for_batch(adapter_sets: list[list[LoRAAdapter]], dtype: torch.dtype = torch.float32) -> Factors:
    """Per-sequence adapter sets -> stacked factors. Identical sets share one (1, …) factor that broadcasts."""
    if not any(adapter_sets):
        return {}
    if all(_same_set(s, adapter_sets[0]) for s in adapter_sets):
        adapter_sets = adapter_sets[:1]
    names = next(a for s in adapter_sets for a in s).factors.keys()
    return {name: _stack(adapter_sets, name, dtype) for name in names}


def _same_set(x: list[LoRAAdapter], y: list[LoRAAdapter]) -> bool:
    return len(x) == len(y) and all(a is b for a, b in zip(x, y))


def _stack(adapter_sets: list[list[LoRAAdapter]], name: str, dtype: torch.dtype) -> tuple[Tensor, Tensor]:
    rank = max(sum(adapter.rank for adapter in s) for s in adapter_sets)
    downs, ups = [], []
    for adapters in adapter_sets:
        paths = [adapter.low_rank_path[name] for adapter in adapters]
        if paths:
            down, up = torch.cat([p[0] for p in paths], 1), torch.cat([p[1] for p in paths], 0)
        else:
            a, b = next(a for s in adapter_sets for a in s).low_rank_path[name]
            down, up = a.new_zeros(a.shape[0], 0), b.new_zeros(0, b.shape[1])
        missing = rank - down.shape[1]
        downs.append(F.pad(down, (0, missing)) if missing else down)
        ups.append(F.pad(up, (0, 0, 0, missing)) if missing else up)
    return torch.stack(downs).to(dtype), torch.stack(ups).to(dtype)


def trainable_factors(adapters: list[LoRAAdapter], dtype: torch.dtype = torch.float32) -> Factors:
    """One adapter per sequence of the batch, keeping the autograd graph to each adapter's own tensors,
    so each sequence's loss reaches only its own adapter. A one-element list broadcasts over the batch."""
    names = adapters[0].factors.keys()
    return {name: _stack_trainable(adapters, name, dtype) for name in names}


def _stack_trainable(adapters: list[LoRAAdapter], name: str, dtype: torch.dtype) -> tuple[Tensor, Tensor]:
    down = torch.stack([adapter.factors[name][0] for adapter in adapters]).transpose(1, 2)
    up = torch.stack([adapter.scaling * adapter.factors[name][1] for adapter in adapters]).transpose(1, 2)
    return down.to(dtype), up.to(dtype)
