"""Warm-up LoRAs: adapters keyed by digest, and pointer files per name and documents' recipe."""

from __future__ import annotations

from dataclasses import replace

import pytest
import torch

from prag.config import DEFAULT_RECIPE
from prag.errors import NotBuiltError
from prag.lora.adapter import LoRAAdapter
from prag.store.adapters import adapter_digest, peft_config
from prag.store.warmups import WarmupStore

CONFIG = peft_config(rank=2, alpha=32.0, dropout=0.0, target_modules=("up_proj",), base_model="tiny")
SOURCE = {"dataset": "hotpotqa", "questions": [0, 4], "question_hashes": ["q1", "q2"]}


def make_adapter(seed: int = 0) -> LoRAAdapter:
    generator = torch.Generator().manual_seed(seed)
    factors = {
        name: (torch.randn(2, 8, generator=generator), torch.randn(8, 2, generator=generator))
        for name in ("model.layers.0.mlp.up_proj", "model.layers.1.mlp.up_proj")
    }
    return LoRAAdapter(factors, rank=2, alpha=32.0)


@pytest.fixture
def warmups(tmp_path):
    return WarmupStore(tmp_path / "warmups", "model-fp")


def save(warmups: WarmupStore, adapter: LoRAAdapter | None = None, source: dict = SOURCE, recipe=DEFAULT_RECIPE) -> str:
    return warmups.save("hotpotqa", recipe, adapter or make_adapter(), CONFIG, {"warmup": "hotpotqa"}, source)


def test_save_record_load_round_trip(warmups):
    adapter = make_adapter()
    digest = save(warmups, adapter)
    assert digest == adapter_digest(adapter)
    assert warmups.record("hotpotqa", DEFAULT_RECIPE) == {"digest": digest, **SOURCE}
    loaded = warmups.load(digest)
    for name, (a, b) in adapter.factors.items():
        assert torch.equal(loaded.factors[name][0], a) and torch.equal(loaded.factors[name][1], b)


def test_find_returns_the_digest_for_the_same_source(warmups):
    digest = save(warmups)
    assert warmups.find("hotpotqa", DEFAULT_RECIPE, dict(SOURCE)) == digest


def test_find_is_none_for_another_source(warmups):
    save(warmups)
    assert warmups.find("hotpotqa", DEFAULT_RECIPE, {**SOURCE, "questions": [0, 5]}) is None
    assert warmups.find("hotpotqa", DEFAULT_RECIPE, {**SOURCE, "question_hashes": ["q1"]}) is None


def test_find_is_none_before_any_save_and_for_another_name(warmups):
    assert warmups.find("hotpotqa", DEFAULT_RECIPE, SOURCE) is None
    save(warmups)
    assert warmups.find("musique", DEFAULT_RECIPE, SOURCE) is None


def test_find_is_none_once_the_adapter_is_gone(warmups):
    digest = save(warmups)
    warmups.adapters.delete(digest)
    assert warmups.find("hotpotqa", DEFAULT_RECIPE, SOURCE) is None


def test_saving_again_repoints_the_name(warmups):
    save(warmups, make_adapter(0))
    newer = save(warmups, make_adapter(1), source={**SOURCE, "questions": [4, 8]})
    assert warmups.record("hotpotqa", DEFAULT_RECIPE)["digest"] == newer
    assert warmups.find("hotpotqa", DEFAULT_RECIPE, SOURCE) is None


def test_another_documents_recipe_does_not_see_the_warmup(warmups):
    save(warmups)
    other = replace(DEFAULT_RECIPE, learning_rate=1e-4)
    assert warmups.find("hotpotqa", other, SOURCE) is None
    with pytest.raises(NotBuiltError, match=r"'hotpotqa'.*prag warmup"):
        warmups.record("hotpotqa", other)


def test_a_recipe_that_starts_from_the_warmup_sees_it(warmups):
    digest = save(warmups)
    starting = replace(DEFAULT_RECIPE, init="warmup", warmup=digest)
    assert warmups.record("hotpotqa", starting)["digest"] == digest
    renamed = replace(DEFAULT_RECIPE, name="renamed")
    assert warmups.find("hotpotqa", renamed, SOURCE) == digest


def test_record_of_an_unknown_name_raises_not_built(warmups):
    with pytest.raises(NotBuiltError, match="prag warmup"):
        warmups.record("hotpotqa", DEFAULT_RECIPE)


def test_load_of_a_missing_digest_raises_not_built(warmups):
    with pytest.raises(NotBuiltError, match=r"0123456789abcdef.*prag warmup"):
        warmups.load("0123456789abcdef")


def test_warmups_of_another_model_are_apart(tmp_path):
    root = tmp_path / "warmups"
    save(WarmupStore(root, "model-a"))
    assert WarmupStore(root, "model-b").find("hotpotqa", DEFAULT_RECIPE, SOURCE) is None


@pytest.mark.parametrize("content", ["{not json", "[]", '{"digest": 7}'])
def test_a_garbled_pointer_is_trained_again_and_named_when_read(warmups, content):
    save(warmups)
    pointer = next(warmups.adapters.folder.glob("hotpotqa-*.json"))
    pointer.write_text(content)
    assert warmups.find("hotpotqa", DEFAULT_RECIPE, SOURCE) is None  # `prag warmup` trains it again
    with pytest.raises(NotBuiltError, match="damaged.*prag warmup"):
        warmups.record("hotpotqa", DEFAULT_RECIPE)
    save(warmups)  # and the pointer written anew is read as before
    assert warmups.find("hotpotqa", DEFAULT_RECIPE, SOURCE) == warmups.record("hotpotqa", DEFAULT_RECIPE)["digest"]
