"""Merge strategies: each is the weighted sum it names, exactly, through the per-sequence low-rank path."""

from __future__ import annotations

import pytest
import torch

from prag.config import PAPER_MERGE, Merge, parse_merge
from prag.errors import InputError
from prag.lora import LoRAPlug, factors_for_batch
from prag.lora.merge import merged_set

from .test_layer import TARGETS, load_tiny, random_adapter


@pytest.fixture(scope="module")
def plug(tiny_model_dir) -> LoRAPlug:
    return LoRAPlug(load_tiny(tiny_model_dir), TARGETS)


def applied(plug: LoRAPlug, adapter_sets, x):
    """Each layer's output minus the base output, per sequence of the batch."""
    name, layer = next(iter(plug.layers.items()))
    with torch.no_grad():
        base = layer(x)
        with plug.plugged(factors_for_batch(adapter_sets)):
            return name, layer(x) - base


@pytest.mark.parametrize(
    "merge, scores, weights",
    [
        (PAPER_MERGE, [3.0, 2.0, 1.0], [1.0, 1.0, 1.0]),
        (Merge("sum", 0.5), [3.0, 2.0, 1.0], [0.5, 0.5, 0.5]),
        (Merge("mean"), [3.0, 2.0, 1.0], [1 / 3, 1 / 3, 1 / 3]),
        (Merge("score"), [3.0, 2.0, 1.0], [1.5, 1.0, 0.5]),  # k·σ_j/Σσ: the plain sum's total, leaning to rank 1
        (Merge("score"), [0.0, 0.0, 0.0], [1.0, 1.0, 1.0]),  # nothing matched: the plain sum
    ],
)
def test_each_weighting_is_its_weighted_sum_exactly(plug, merge, scores, weights):
    adapters = [random_adapter(plug, seed) for seed in range(3)]
    assert merge.weights(scores) == pytest.approx(weights)
    x = torch.randn(1, 4, next(iter(plug.layers.values())).in_features)
    name, delta = applied(plug, [merged_set(merge, adapters, scores)], x)
    expected = sum(w * a.delta_weight(name) for w, a in zip(weights, adapters))
    torch.testing.assert_close(delta, x @ expected.T, rtol=1e-5, atol=1e-6)


def test_the_start_is_counted_once(plug):
    """Adapters that all started from one warm-up carry it k times in the plain sum; start-once leaves one."""
    start = random_adapter(plug, 10)
    learned = [random_adapter(plug, seed) for seed in range(3)]
    name = next(iter(plug.layers))
    # Documents' adapters as start + what each learned (an additive stand-in: exact for checking the algebra).
    adapters = [
        type(start)({n: (torch.cat([start.factors[n][0], a.factors[n][0]]), torch.cat([start.factors[n][1], a.factors[n][1]], 1))
                     for n in start.factors}, rank=4, alpha=64.0)
        for a in learned
    ]
    x = torch.randn(1, 4, next(iter(plug.layers.values())).in_features)
    for merge, starts in ((Merge("sum", start_once=True), 1), (Merge("sum"), 3), (Merge("mean", start_once=True), 1)):
        _, delta = applied(plug, [merged_set(merge, adapters, [1.0, 1.0, 1.0], start)], x)
        weight = merge.weights([1.0] * 3)[0]
        expected = starts * start.delta_weight(name) + sum(weight * a.delta_weight(name) for a in learned)
        torch.testing.assert_close(delta, x @ expected.T, rtol=1e-4, atol=1e-5)


def test_each_sequence_of_a_batch_keeps_its_own_weights(plug):
    a, b = random_adapter(plug, 1), random_adapter(plug, 2)
    x = torch.randn(2, 4, next(iter(plug.layers.values())).in_features)
    sets = [merged_set(Merge("score"), [a, b], [3.0, 1.0]), merged_set(PAPER_MERGE, [a, b], [3.0, 1.0])]
    name, delta = applied(plug, sets, x)
    first = 1.5 * a.delta_weight(name) + 0.5 * b.delta_weight(name)
    second = a.delta_weight(name) + b.delta_weight(name)
    torch.testing.assert_close(delta[0], x[0] @ first.T, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(delta[1], x[1] @ second.T, rtol=1e-5, atol=1e-6)


def test_the_paper_merge_passes_adapters_through_unchanged(plug):
    adapters = [random_adapter(plug, seed) for seed in range(2)]
    assert all(m is a for m, a in zip(merged_set(PAPER_MERGE, adapters, [1.0, 2.0]), adapters))  # resident paths reused


def test_merge_specs_parse_and_label():
    assert parse_merge("sum") == PAPER_MERGE and PAPER_MERGE.label == "sum"
    assert parse_merge("sum:0.5").label == "sum×0.5"
    assert parse_merge("score+start-once") == Merge("score", start_once=True)
    for bad in ("median", "sum:x", "sum:-1", "sum:inf", "sum:nan", "sum+twice"):
        with pytest.raises(InputError, match="--merge"):
            parse_merge(bad)
