"""Merge exactness, per-sequence adapter sets, and the peft round-trip, on the tiny Llama."""

from __future__ import annotations

import torch
from peft import PeftModel
from torch import nn
from transformers import AutoModelForCausalLM

from prag.config import Recipe
from prag.encode import initial_adapter
from prag.lora import LoRAAdapter, LoRAPlug, factors_for_batch
from prag.lora.adapter import merged_delta
from prag.store.adapters import AdapterStore, load_adapter, peft_config

TARGETS = ("gate_proj", "up_proj", "down_proj")


def random_adapter(plug: LoRAPlug, seed: int, rank: int = 2, alpha: float = 32.0) -> LoRAAdapter:
    g = torch.Generator().manual_seed(seed)
    factors = {
        name: (torch.randn(rank, layer.in_features, generator=g), torch.randn(layer.out_features, rank, generator=g) * 0.01)
        for name, layer in plug.layers.items()
    }
    return LoRAAdapter(factors, rank, alpha)


def load_tiny(path):
    model = AutoModelForCausalLM.from_pretrained(path, dtype=torch.float32)
    model.eval()
    return model


def test_applied_update_is_the_sum_of_the_deltas_and_leaves_weights_untouched(tiny_model_dir):
    model = load_tiny(tiny_model_dir)
    plug = LoRAPlug(model, TARGETS)
    name, layer = next(iter(plug.layers.items()))
    weights_before = {k: v.clone() for k, v in model.state_dict().items()}
    adapters = [random_adapter(plug, seed) for seed in range(3)]
    x = torch.randn(2, 5, layer.in_features)
    with torch.no_grad():
        base = layer(x)
        with plug.plugged(factors_for_batch([adapters])):
            adapted = layer(x)
        after = layer(x)
    expected = base + x @ merged_delta(adapters, name).T
    torch.testing.assert_close(adapted, expected, rtol=1e-5, atol=1e-5)
    assert torch.equal(after, base)
    assert all(torch.equal(v, weights_before[k]) for k, v in model.state_dict().items())


def test_merged_delta_is_a_sum_not_an_average_of_factors(tiny_model_dir):
    plug = LoRAPlug(load_tiny(tiny_model_dir), TARGETS)
    a, b = random_adapter(plug, 1), random_adapter(plug, 2)
    name = next(iter(plug.layers))
    torch.testing.assert_close(merged_delta([a, b], name), a.delta_weight(name) + b.delta_weight(name))


def test_one_batch_can_carry_a_different_adapter_set_per_sequence(tiny_model_dir):
    model = load_tiny(tiny_model_dir)
    plug = LoRAPlug(model, TARGETS)
    a, b, c = (random_adapter(plug, seed) for seed in range(3))
    sets = [[a], [b, c], []]
    ids = torch.randint(0, 1000, (3, 7))
    with torch.no_grad(), plug.plugged(factors_for_batch(sets)):
        batched = model(input_ids=ids).logits
    for row, adapters in enumerate(sets):
        with torch.no_grad(), plug.plugged(factors_for_batch([adapters]) if adapters else None):
            alone = model(input_ids=ids[row : row + 1]).logits
        torch.testing.assert_close(batched[row : row + 1], alone, rtol=1e-4, atol=1e-5)


def test_injection_wraps_only_the_ffn_projections(tiny_model_dir):
    model = load_tiny(tiny_model_dir)
    plug = LoRAPlug(model, TARGETS)
    assert len(plug.layers) == 3 * model.config.num_hidden_layers
    assert all(isinstance(layer.base, nn.Linear) for layer in plug.layers.values())
    assert LoRAPlug(model, TARGETS).layers.keys() == plug.layers.keys()  # idempotent


def test_stored_adapter_loads_in_peft_with_the_same_logits(tiny_model_dir, tmp_path):
    model = load_tiny(tiny_model_dir)
    plug = LoRAPlug(model, TARGETS)
    adapter = random_adapter(plug, 7)
    store = AdapterStore(tmp_path / "adapters", "fp", "recipe")
    folder = store.save("doc", adapter, peft_config(2, 32.0, 0.0, TARGETS, str(tiny_model_dir)), {"test": "yes"})
    ids = torch.randint(0, 1000, (1, 9))
    with torch.no_grad(), plug.plugged(factors_for_batch([[load_adapter(folder)]])):
        ours = model(input_ids=ids).logits
    peft_model = PeftModel.from_pretrained(load_tiny(tiny_model_dir), folder)
    with torch.no_grad():
        theirs = peft_model(input_ids=ids).logits
    torch.testing.assert_close(ours, theirs, rtol=1e-5, atol=1e-5)


def test_every_adapter_starts_from_one_seeded_initialisation(tiny_model_dir):
    plug = LoRAPlug(load_tiny(tiny_model_dir), TARGETS)
    first, second = initial_adapter(plug, Recipe(seed=3)), initial_adapter(plug, Recipe(seed=3))
    other = initial_adapter(plug, Recipe(seed=4))
    name = next(iter(plug.layers))
    assert torch.equal(first.factors[name][0], second.factors[name][0])
    assert not torch.equal(first.factors[name][0], other.factors[name][0])
    assert not first.factors[name][1].any()  # B starts at zero: the initial update is exactly nothing
