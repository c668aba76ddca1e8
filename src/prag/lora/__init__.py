"""LoRA as Parametric RAG needs it: per-sequence adapter sets in one forward pass, exact sums of updates."""

from prag.lora.adapter import LoRAAdapter
from prag.lora.layer import LoRALinear, LoRAPlug, factors_for_batch, trainable_factors

__all__ = ["LoRAAdapter", "LoRALinear", "LoRAPlug", "factors_for_batch", "trainable_factors"]
