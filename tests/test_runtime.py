"""The runtime: stores keyed by the model and recipe, and the provenance every stored file records."""

from __future__ import annotations

from dataclasses import replace

from prag import Prag, __version__
from prag.config import AugmentConfig

from .conftest import FAST


def test_stores_are_keyed_by_model_fingerprint_and_recipe(tiny_model_dir):
    runtime = Prag(model=str(tiny_model_dir), settings=FAST).runtime
    other = Prag(model=str(tiny_model_dir), settings=FAST.with_recipe(replace(FAST.recipe, rank=4))).runtime
    assert runtime.adapter_store.folder.parts[-2:] == (runtime.model_fingerprint, runtime.adapter_key)
    assert runtime.adapter_key.startswith(FAST.recipe.fingerprint())
    assert other.adapter_store.folder != runtime.adapter_store.folder
    assert runtime.augment_key == other.augment_key  # augmentation does not depend on the recipe
    assert runtime.augment_key.startswith(runtime.model_fingerprint)


def test_the_fingerprint_needs_no_weights_loaded(tiny_model_dir):
    runtime = Prag(model=str(tiny_model_dir), settings=FAST).runtime
    assert len(runtime.model_fingerprint) == 16
    assert "generator" not in runtime.__dict__  # `prag status` reads the fingerprint, never the model


def test_provenance_names_model_recipe_and_code_version(tiny_model_dir):
    runtime = Prag(model=str(tiny_model_dir), settings=FAST).runtime
    meta = runtime.adapter_meta(FAST.recipe, document="d")
    assert meta["prag_version"] == __version__ and meta["model"] == str(tiny_model_dir)
    assert meta["recipe_hash"] == FAST.recipe.fingerprint() and meta["recipe_config"]["epochs"] == FAST.recipe.epochs
    assert meta["model_fingerprint"] == runtime.model_fingerprint and meta["document"] == "d"
    assert runtime.peft_config(FAST.recipe)["r"] == FAST.recipe.rank


def test_fp32_training_shares_the_answering_model(tiny_model_dir):
    runtime = Prag(model=str(tiny_model_dir), settings=FAST).runtime
    assert runtime.encoding_generator is runtime.generator


def test_adapters_are_keyed_by_the_augmentations_they_learn_from(tiny_model_dir, other_tiny_model_dir):
    """Default augmentations by the answering model keep the key adapters were stored under before."""
    plain = Prag(model=str(tiny_model_dir), settings=FAST.with_recipe(FAST.recipe)).runtime
    default = Prag(model=str(tiny_model_dir), settings=replace(FAST, augment=AugmentConfig())).runtime
    assert default.adapter_key == FAST.recipe.fingerprint() and plain.adapter_key != default.adapter_key
    by_other = Prag(model=str(tiny_model_dir), settings=replace(FAST, augment=AugmentConfig(model=str(other_tiny_model_dir)))).runtime
    assert len({plain.adapter_key, default.adapter_key, by_other.adapter_key}) == 3
    assert by_other.model_fingerprint == default.model_fingerprint  # the answering model is the same


def test_the_answering_model_named_as_writer_is_its_own_writer(tiny_model_dir, tmp_path):
    """`--augment-model` naming the model itself, by its spec or by another path to it, keys nothing apart."""
    own = Prag(model=str(tiny_model_dir), settings=FAST).runtime
    link = tmp_path / "same-model"
    link.symlink_to(tiny_model_dir, target_is_directory=True)
    for spelling in (str(tiny_model_dir), str(link)):
        named = Prag(model=str(tiny_model_dir), settings=replace(FAST, augment=replace(FAST.augment, model=spelling))).runtime
        assert named.writes_own_augmentations and named.augment_model_spec == str(tiny_model_dir)
        assert (named.augment_key, named.adapter_key) == (own.augment_key, own.adapter_key)
        assert named.provenance()["augment_hash"] == own.provenance()["augment_hash"]
