"""Adapter files in peft's layout, the LRU adapter cache and adapter digests."""

from __future__ import annotations

import json

import pytest
import torch
from safetensors.torch import load_file

from prag.errors import DamagedError, EncodingError
from prag.lora.adapter import LoRAAdapter
from prag.store.adapters import AdapterCache, AdapterStore, adapter_digest, peft_config
from prag.store.files import sha256_file

MODULES = ("model.layers.0.mlp.up_proj", "model.layers.0.mlp.down_proj")
CONFIG = peft_config(rank=2, alpha=32.0, dropout=0.0, target_modules=("up_proj", "down_proj"), base_model="tiny")
META = {"document": "d1", "recipe_hash": "r"}


def make_adapter(seed: int = 0) -> LoRAAdapter:
    generator = torch.Generator().manual_seed(seed)
    factors = {
        name: (torch.randn(2, 8, generator=generator), torch.randn(8, 2, generator=generator)) for name in MODULES
    }
    return LoRAAdapter(factors, rank=2, alpha=32.0)


def with_value(adapter: LoRAAdapter, value: float) -> LoRAAdapter:
    copy = adapter.detached()
    copy.factors[MODULES[1]][1][3, 1] = value
    return copy


@pytest.fixture
def store(tmp_path):
    return AdapterStore(tmp_path / "adapters", "model-fp", "recipe-hash")


def test_save_and_load_round_trip_the_factors_exactly(store):
    adapter = make_adapter()
    store.save("h1", adapter, CONFIG, META)
    loaded = store.load("h1")
    assert set(loaded.factors) == set(MODULES)
    for name in MODULES:
        assert torch.equal(loaded.factors[name][0], adapter.factors[name][0])
        assert torch.equal(loaded.factors[name][1], adapter.factors[name][1])
    assert (loaded.rank, loaded.alpha) == (2, 32.0)


def test_save_writes_peft_layout_and_meta(store):
    folder = store.save("h1", make_adapter(), CONFIG, META)
    assert folder == store.path("h1") == store.folder / "h1"
    names = sorted(p.name for p in folder.iterdir())
    assert names == ["adapter_config.json", "adapter_model.safetensors", "prag_meta.json"]
    assert json.loads((folder / "adapter_config.json").read_text()) == CONFIG
    recorded = {name: sha256_file(folder / name) for name in ("adapter_config.json", "adapter_model.safetensors")}
    assert json.loads((folder / "prag_meta.json").read_text()) == META | {"sha256": recorded}
    keys = set(load_file(folder / "adapter_model.safetensors"))
    assert "base_model.model.model.layers.0.mlp.up_proj.lora_A.weight" in keys
    assert "base_model.model.model.layers.0.mlp.down_proj.lora_B.weight" in keys
    assert len(keys) == 4


def test_the_store_folder_is_keyed_by_model_and_recipe(tmp_path):
    root = tmp_path / "adapters"
    AdapterStore(root, "m1", "r1").save("h1", make_adapter(), CONFIG, META)
    assert AdapterStore(root, "m1", "r1").has("h1")
    assert not AdapterStore(root, "m1", "r2").has("h1")
    assert not AdapterStore(root, "m2", "r1").has("h1")


def test_a_non_contiguous_factor_is_saved(store):
    adapter = make_adapter()
    a, b = adapter.factors[MODULES[0]]
    transposed_view = torch.randn(2, 8).T  # (8, 2), not contiguous
    adapter.factors[MODULES[0]] = (a, transposed_view)
    store.save("h1", adapter, CONFIG, META)
    assert torch.equal(store.load("h1").factors[MODULES[0]][1], transposed_view)


def test_has_is_false_before_save_and_true_after(store):
    assert not store.has("h1")
    store.save("h1", make_adapter(), CONFIG, META)
    assert store.has("h1")
    assert not store.has("h2")


def test_nbytes_counts_the_stored_files(store):
    assert store.nbytes("h1") == 0
    folder = store.save("h1", make_adapter(), CONFIG, META)
    assert store.nbytes("h1") == sum(f.stat().st_size for f in folder.iterdir()) > 0


def test_saving_again_replaces_the_adapter(store):
    store.save("h1", make_adapter(0), CONFIG, META)
    newer = make_adapter(1)
    store.save("h1", newer, CONFIG, META)
    assert torch.equal(store.load("h1").factors[MODULES[0]][0], newer.factors[MODULES[0]][0])
    assert [p.name for p in store.folder.iterdir()] == ["h1"]


def test_delete_removes_the_adapter_and_leaves_no_temp_folder(store):
    store.save("h1", make_adapter(), CONFIG, META)
    store.save("h2", make_adapter(1), CONFIG, META)
    store.delete("h1")
    assert not store.has("h1")
    assert [p.name for p in store.folder.iterdir()] == ["h2"]


def test_delete_of_a_missing_adapter_does_nothing(store):
    store.delete("never-saved")
    assert not store.has("never-saved")


def test_delete_succeeds_after_an_interrupted_earlier_delete(store):
    store.save("h1", make_adapter(), CONFIG, META)
    leftover = store.folder / ".h1.deleted"
    leftover.mkdir()
    (leftover / "adapter_model.safetensors").write_bytes(b"half removed")
    store.delete("h1")
    assert not store.has("h1")


@pytest.mark.parametrize("value", [float("nan"), float("inf"), float("-inf")])
def test_a_non_finite_adapter_is_refused_and_leaves_nothing(tmp_path, value):
    root = tmp_path / "adapters"
    store = AdapterStore(root, "model-fp", "recipe-hash")
    with pytest.raises(EncodingError, match=r"non-finite.*down_proj"):
        store.save("h1", with_value(make_adapter(), value), CONFIG, META)
    assert not store.has("h1")
    assert not root.exists() or list(root.rglob("*")) == []


def test_a_non_finite_adapter_does_not_replace_a_stored_one(store):
    good = make_adapter()
    store.save("h1", good, CONFIG, META)
    with pytest.raises(EncodingError):
        store.save("h1", with_value(good, float("nan")), CONFIG, META)
    assert torch.equal(store.load("h1").factors[MODULES[1]][1], good.factors[MODULES[1]][1])


def test_a_changed_config_is_damage_that_has_and_load_refuse(store):
    folder = store.save("h1", make_adapter(), CONFIG, META)
    (folder / "adapter_config.json").write_text(json.dumps(CONFIG | {"r": 4}))  # valid JSON, a wrong rank
    assert not store.has("h1")
    assert "adapter_config.json" in store.damage("h1") and "h1" in store.damage("h1")
    with pytest.raises(DamagedError, match="adapter_config.json .* not the file that was written"):
        store.load("h1")


def test_saving_again_replaces_a_damaged_adapter(store):
    folder = store.save("h1", make_adapter(), CONFIG, META)
    (folder / "adapter_model.safetensors").write_bytes(b"")
    assert not store.has("h1") and store.damage("h1")
    store.save("h1", make_adapter(), CONFIG, META)
    assert store.has("h1") and store.damage("h1") is None


def test_cache_second_get_is_a_memory_hit(store):
    store.save("h1", make_adapter(), CONFIG, META)
    cache = AdapterCache(store, max_bytes=10**6)
    first = cache.get("h1")
    second = cache.get("h1")
    assert second is first
    assert cache.disk_reads == 1 and len(cache) == 1


def test_cache_evicts_the_least_recently_used_by_bytes(store):
    for i, h in enumerate(["a", "b", "c"]):
        store.save(h, make_adapter(i), CONFIG, META)
    size = make_adapter().nbytes
    cache = AdapterCache(store, max_bytes=2 * size)
    cache.get("a")
    cache.get("b")
    cache.get("a")  # now b is the least recently used
    cache.get("c")  # over the bound: b goes
    assert len(cache) == 2 and cache.disk_reads == 3
    cache.get("a")
    cache.get("c")
    assert cache.disk_reads == 3
    cache.get("b")
    assert cache.disk_reads == 4


def test_cache_keeps_one_adapter_larger_than_its_bound(store):
    store.save("a", make_adapter(), CONFIG, META)
    store.save("b", make_adapter(1), CONFIG, META)
    cache = AdapterCache(store, max_bytes=1)
    cache.get("a")
    assert torch.equal(cache.get("b").factors[MODULES[0]][0], make_adapter(1).factors[MODULES[0]][0])
    assert len(cache) == 1


def test_cache_has_asks_the_store(store):
    store.save("h1", make_adapter(), CONFIG, META)
    cache = AdapterCache(store, max_bytes=10**6)
    assert cache.has("h1") and not cache.has("h2")
    cache.get("h1")
    store.delete("h1")
    assert not cache.has("h1")


def test_adapter_digest_is_stable_for_equal_values():
    one, other = make_adapter(0), make_adapter(0)
    assert one.factors[MODULES[0]][0] is not other.factors[MODULES[0]][0]
    assert adapter_digest(one) == adapter_digest(other)
    assert len(adapter_digest(one)) == 16


def test_adapter_digest_ignores_the_order_of_modules():
    adapter = make_adapter()
    reordered = LoRAAdapter(dict(reversed(list(adapter.factors.items()))), rank=2, alpha=32.0)
    assert list(reordered.factors) != list(adapter.factors)
    assert adapter_digest(reordered) == adapter_digest(adapter)


def test_adapter_digest_differs_for_different_values():
    adapter = make_adapter()
    assert adapter_digest(adapter) != adapter_digest(make_adapter(1))
    assert adapter_digest(adapter) != adapter_digest(with_value(adapter, 0.5))


def test_adapter_digest_of_a_saved_adapter_survives_loading(store):
    adapter = make_adapter()
    store.save("h1", adapter, CONFIG, META)
    assert adapter_digest(store.load("h1")) == adapter_digest(adapter)
