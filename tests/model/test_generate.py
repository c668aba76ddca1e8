"""Batched generation (left padding, KV cache, per-sequence adapter sets) gives what one-at-a-time
greedy decoding gives: batching is a speed-up, never a change of output. On the real default model:
a random tiny model only ever writes newlines, which would prove nothing."""

from __future__ import annotations

import pytest
import torch

from prag.config import DEFAULT_RECIPE
from prag.lora import LoRAAdapter, factors_for_batch
from prag.model import loader
from prag.model.generate import Generator

PROMPTS = [
    "Velmora is a town on the Arn River. Who founded it?",
    "Name a colour.",
    "Quillon Dynamics builds clockwork pumps and is based in Tarsk, a city far to the north. What does it build?",
    "Write one word.",
]


@pytest.fixture(scope="module")
def generator(default_model_dir) -> Generator:
    return Generator(loader.load(str(default_model_dir), default_model_dir.parent), DEFAULT_RECIPE.target_modules)


def random_adapter(generator: Generator, seed: int) -> LoRAAdapter:
    g = torch.Generator().manual_seed(seed)
    factors = {
        name: (torch.randn(2, layer.in_features, generator=g), torch.randn(layer.out_features, 2, generator=g) * 0.01)
        for name, layer in generator.plug.layers.items()
    }
    return LoRAAdapter(factors, rank=2, alpha=32)


def test_batched_greedy_generation_equals_one_prompt_at_a_time(generator):
    prompts = [generator.chat_prompt(p) for p in PROMPTS]
    batched = generator.generate(prompts, max_new_tokens=12)
    alone = [generator.generate([p], max_new_tokens=12)[0] for p in prompts]
    assert batched == alone
    assert len(set(batched)) > 1


def test_each_sequence_keeps_its_own_adapter_set_in_a_batch(generator):
    prompts = [generator.chat_prompt(p) for p in PROMPTS]
    a, b, c = (random_adapter(generator, seed) for seed in (1, 2, 3))
    sets = [[a], [b, c], [], [a, b, c]]
    batched = generator.generate(prompts, max_new_tokens=12, factors=factors_for_batch(sets))
    alone = [generator.generate([p], max_new_tokens=12, factors=factors_for_batch([s]) or None)[0] for p, s in zip(prompts, sets)]
    assert batched == alone
    assert batched[3] != generator.generate([prompts[3]], max_new_tokens=12)[0]  # the adapters did act


def test_a_sequence_that_is_done_stops_without_changing_the_others(generator):
    prompts = [generator.chat_prompt(p) for p in PROMPTS]
    free = generator.generate(prompts, max_new_tokens=12)
    stopped = generator.generate(prompts, max_new_tokens=12, done=lambda text: len(text) >= 8)
    for full, short in zip(free, stopped):
        assert full.startswith(short) and (len(short) >= 8 or short == full)
