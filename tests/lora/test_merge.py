"""Merge strategies: each is the weighted sum it names, exactly, through the per-sequence low-rank path."""

from __future__ import annotations

import pytest
import torch

from prag.config import PAPER_MERGE, Merge, parse_merge
from prag.errors import InputError
from prag.lora import LoRAPlug, factors_for_batch
from prag.lora.merge import merged_set, shared_component

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


@pytest.mark.parametrize("merge", [Merge("mean", 0.5, shared=0), Merge("score", shared=1), Merge("sum", shared=0.25)])
def test_the_shared_component_keeps_the_copies_asked_for(plug, merge):
    """Σ_j w_j ΔW_j holds the shared part Σw times; +shared:C takes (Σw − C) copies away, exactly."""
    shared = random_adapter(plug, 10)
    adapters = [random_adapter(plug, seed) for seed in range(3)]
    scores = [3.0, 2.0, 1.0]
    weights = merge.weights(scores)
    x = torch.randn(1, 4, next(iter(plug.layers.values())).in_features)
    name, delta = applied(plug, [merged_set(merge, adapters, scores, shared=shared)], x)
    expected = sum(w * a.delta_weight(name) for w, a in zip(weights, adapters)) - (sum(weights) - merge.shared) * shared.delta_weight(name)
    torch.testing.assert_close(delta, x @ expected.T, rtol=1e-4, atol=1e-5)


def test_the_shared_component_is_the_mean_update_cut_to_its_top_directions(plug):
    adapters = [random_adapter(plug, seed) for seed in range(3)]
    name = next(iter(plug.layers))
    mean = sum(a.delta_weight(name) for a in adapters) / 3
    whole = shared_component(adapters, rank=6)  # 3 adapters of rank 2: rank 6 holds the mean exactly
    assert (whole.adapters, whole.adapter.rank) == (3, 6) and whole.energy_kept == pytest.approx(1.0)
    torch.testing.assert_close(whole.adapter.delta_weight(name), mean, rtol=1e-4, atol=1e-6)
    cut = shared_component(adapters, rank=2)
    assert cut.adapter.rank == 2 and 0 < cut.energy_kept < 1
    best = torch.linalg.svd(mean)  # Eckart–Young: the cut is the best rank-2 approximation of the mean
    best_two = best.U[:, :2] @ torch.diag(best.S[:2]) @ best.Vh[:2]
    torch.testing.assert_close(cut.adapter.delta_weight(name), best_two, rtol=1e-3, atol=1e-6)
    # Adapters that hold one common update and a part of their own: the common part is what the cut finds.
    common = random_adapter(plug, 20)
    own = [random_adapter(plug, seed).scaled(0.05) for seed in range(30, 60)]
    stacked = [
        type(common)({n: (torch.cat([common.factors[n][0], o.factors[n][0]]), torch.cat([common.factors[n][1], o.factors[n][1]], 1)) for n in common.factors}, 4, 64.0)
        for o in own
    ]
    found = shared_component(stacked, rank=2).adapter.delta_weight(name)
    error = torch.linalg.norm(found - common.delta_weight(name)) / torch.linalg.norm(common.delta_weight(name))
    assert error < 0.05


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
    assert parse_merge("score:0.17+shared:0") == Merge("score", 0.17, shared=0.0)
    assert Merge("score", 0.17, shared=0.0).label == "score×0.17+shared:0" and Merge("mean", shared=1).label == "mean+shared:1"
    for bad in ("median", "sum:x", "sum:-1", "sum:inf", "sum:nan", "sum+twice", "sum+shared", "sum+shared:-1", "sum+shared:x", "sum+start-once+shared:0"):
        with pytest.raises(InputError, match="--merge"):
            parse_merge(bad)
