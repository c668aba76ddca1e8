"""How the retrieved documents' adapters are combined into one update (the paper's ΔW_merge, and the
variants prag measures against it).

Every strategy is a weighted sum, ΔW = Σ_j w_j·ΔW_j − c·ΔW_start, and stays exact in low rank: a weight
scales an adapter's up factor (w·s·B_j A_j = (w·s·B_j) A_j), and subtracting the shared start is one more
adapter in the set with weight −c. So a merged set still runs through the per-sequence low-rank path of
`lora.layer`, each question with its own weights.
"""

from __future__ import annotations

from dataclasses import dataclass

from prag.lora.adapter import LoRAAdapter

WEIGHTINGS = ("sum", "mean", "score")


@dataclass(frozen=True)
class Merge:
    weighting: str = "sum"
    """`sum`: w_j = α (the paper: α = 1, peft's `cat`); `mean`: w_j = α/k; `score`: w_j = α·k·σ_j/Σσ with σ the
    retrieval scores, so the weights keep the plain sum's total and lean towards the better matches."""
    alpha: float = 1.0
    start_once: bool = False
    """Count the start every document adapter trained from (a warm-up LoRA) once, not k times: each
    ΔW_j carries it, so Σ_j w_j ΔW_j holds it Σ_j w_j times; (Σ_j w_j − 1) copies are taken away."""

    def __post_init__(self) -> None:
        if self.weighting not in WEIGHTINGS:
            raise ValueError(f"merge weighting must be one of {WEIGHTINGS}, got {self.weighting!r}")
        if not self.alpha > 0:
            raise ValueError(f"merge alpha must be positive, got {self.alpha}")

    @property
    def label(self) -> str:
        """`sum` (the paper's), `mean`, `score`, with `×α` when α ≠ 1 and `+start-once`: what reports print."""
        alpha = "" if self.alpha == 1 else f"×{self.alpha:g}"
        return f"{self.weighting}{alpha}{'+start-once' if self.start_once else ''}"

    def weights(self, scores: list[float]) -> list[float]:
        """w_j for k retrieved documents with retrieval scores σ_j (rank order)."""
        k = len(scores)
        if self.weighting == "mean":
            return [self.alpha / k] * k
        total = sum(scores)
        if self.weighting == "score" and total > 0:
            return [self.alpha * k * s / total for s in scores]
        return [self.alpha] * k  # `sum`, and `score` when nothing matched (every σ is 0)

    def merged(self, adapters: list[LoRAAdapter], scores: list[float], start: LoRAAdapter | None = None) -> list[LoRAAdapter]:
        """The set whose plain sum is this merge of `adapters`: each scaled by its weight, and the start
        once more with weight −(Σw − 1) when it is to be counted once."""
        if not adapters:
            return []
        weights = self.weights(scores)
        merged = [a if w == 1 else a.scaled(w) for a, w in zip(adapters, weights)]
        surplus = sum(weights) - 1
        if self.start_once and start is not None and surplus != 0:
            merged.append(start.scaled(-surplus))
        return merged


PAPER_MERGE = Merge()
"""Su et al. 2025: ΔW_merge = Σ_j ΔW_j."""


def parse_merge(text: str) -> Merge:
    """`sum`, `mean`, `score`, optionally `:ALPHA` and `+start-once`, e.g. `sum:0.5`, `score+start-once`."""
    spec, once, rest = text.strip().partition("+")
    if once and rest != "start-once":
        raise ValueError(f"unknown merge option {'+' + rest!r}; the only one is +start-once")
    weighting, _, alpha = spec.partition(":")
    try:
        value = float(alpha) if alpha else 1.0
    except ValueError:
        raise ValueError(f"merge alpha must be a number, got {alpha!r}") from None
    return Merge(weighting, value, bool(once))
