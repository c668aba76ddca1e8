"""Cross-entropy through the frozen vocabulary head without materialising the logits.

The head is the widest matrix of a small model (SmolLM2-135M: 576 × 49,152), so (tokens × vocabulary)
logits, their fp32 copy, their softmax and its gradient are each hundreds of megabytes per training step;
allocating and touching them cost more than the matrix product itself. The loss is the last node of the
graph and the head is frozen, so the gradient with respect to the hidden states can be computed in the
forward pass, a few hundred rows at a time, and only that (tokens × hidden) gradient is kept.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

CHUNK_ROWS = 128


class _HeadCrossEntropy(torch.autograd.Function):
    @staticmethod
    def forward(ctx, hidden: Tensor, head: Tensor, targets: Tensor, token_weights: Tensor) -> Tensor:
        total = hidden.new_zeros((), dtype=torch.float32)
        grad = torch.empty_like(hidden)
        for start in range(0, hidden.shape[0], CHUNK_ROWS):
            rows = slice(start, start + CHUNK_ROWS)
            weights = token_weights[rows, None]
            # One buffer, reused in place: logits -> shifted -> exp -> softmax -> d loss / d logits.
            logits = F.linear(hidden[rows], head).float()
            top = logits.amax(-1, keepdim=True)
            shifted_picked = logits.gather(1, targets[rows, None]).sub_(top)
            exp = logits.sub_(top).exp_()
            z = exp.sum(-1, keepdim=True)
            total += ((z.log() - shifted_picked) * weights).sum()
            # d loss / d logits = softmax - one-hot, weighted per token; then back through the head.
            grad_logits = exp.mul_(weights / z).scatter_add_(1, targets[rows, None], -weights)
            grad[rows] = grad_logits.to(head.dtype) @ head
        ctx.save_for_backward(grad)
        return total

    @staticmethod
    def backward(ctx, grad_output: Tensor):
        (grad,) = ctx.saved_tensors
        return grad * grad_output.to(grad.dtype), None, None, None


def head_cross_entropy(hidden: Tensor, head: Tensor, targets: Tensor, token_weights: Tensor) -> Tensor:
    """Σ_i token_weights[i] · CE(hidden[i] @ headᵀ, targets[i]) with the head frozen; `hidden` (N, H),
    `head` (V, H), `targets` (N,) and `token_weights` (N,) float32."""
    return _HeadCrossEntropy.apply(hidden, head, targets, token_weights)
