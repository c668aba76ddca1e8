"""The model a collection is answered and encoded with, the stores keyed by it, and the provenance
every stored artefact records (model, recipe, augmentation settings, code version)."""

from __future__ import annotations

import hashlib
from dataclasses import asdict, replace
from functools import cached_property
from pathlib import Path

from prag import __version__
from prag.config import AugmentConfig, Recipe, Settings
from prag.lora import LoRAAdapter
from prag.model import loader
from prag.model.generate import Generator
from prag.paths import model_cache
from prag.store.adapters import AdapterStore, peft_config
from prag.store.warmups import WarmupStore


class Runtime:
    """Loads nothing until asked: `prag status` needs the model's fingerprint, never its weights."""

    def __init__(self, home: Path, model: str, settings: Settings, cache: Path | None = None):
        self.home = home
        self.model_spec = model
        self.settings = settings
        self.cache = cache if cache is not None else model_cache(home)
        """Where converted models live; a cluster's workers are given the driver's."""

    @cached_property
    def model_path(self) -> Path:
        return loader.resolve(self.model_spec, self.cache)

    @cached_property
    def model_fingerprint(self) -> str:
        return loader.fingerprint(self.model_path, self.cache)

    @cached_property
    def generator(self) -> Generator:
        loaded = loader.load(self.model_spec, self.cache)
        return Generator(loaded, self.settings.recipe.target_modules)

    @property
    def augment_model_spec(self) -> str:
        """The model that writes augmentations: the settings' `augment.model`, or this one."""
        return self.model_spec if self.writes_own_augmentations else self.settings.augment.model

    @cached_property
    def writes_own_augmentations(self) -> bool:
        """Also when `--augment-model` names the answering model itself, by its name or by a path to it."""
        return self.augment_fingerprint == self.model_fingerprint

    @cached_property
    def augment(self) -> AugmentConfig:
        """The augmentation settings that key the stores: the answering model named as its own writer is no
        other writer, so its augmentations and adapters are the ones stored without `--augment-model`."""
        if self.writes_own_augmentations:
            return replace(self.settings.augment, model=None)
        return self.settings.augment

    @cached_property
    def augment_generator(self) -> Generator:
        if self.writes_own_augmentations:
            return self.generator
        return Generator(loader.load(self.augment_model_spec, self.cache), self.settings.recipe.target_modules)

    @cached_property
    def augment_fingerprint(self) -> str:
        """The writer's fingerprint: the answering model's own unless `--augment-model` names another spec."""
        other = self.settings.augment.model
        if other is None or other == self.model_spec:
            return self.model_fingerprint
        return loader.fingerprint(loader.resolve(other, self.cache), self.cache)

    @cached_property
    def encoding_generator(self) -> Generator:
        """The model that trains adapters: the answering model itself, or a copy in the recipe's precision."""
        if self.settings.recipe.precision == "fp32":
            return self.generator
        loaded = loader.load(self.model_spec, self.cache, self.settings.recipe.precision)
        return Generator(loaded, self.settings.recipe.target_modules)

    @cached_property
    def adapter_store(self) -> AdapterStore:
        return AdapterStore(self.home / "adapters", self.model_fingerprint, self.adapter_key)

    @cached_property
    def warmups(self) -> WarmupStore:
        return WarmupStore(self.home / "warmups", self.model_fingerprint)

    def start_adapter(self) -> LoRAAdapter | None:
        """Where every document adapter starts: the recipe's warm-up LoRA, or None for peft's initialisation."""
        recipe = self.settings.recipe
        return self.warmups.load(recipe.warmup) if recipe.init == "warmup" else None

    @property
    def recipe_key(self) -> str:
        return self.settings.recipe.fingerprint()

    @property
    def adapter_key(self) -> str:
        """Adapters depend on the recipe and on the augmentations they learn from. The augmentation the
        answering model writes with the default settings is left out of the key, so that the adapters
        stored before the key covered augmentations keep their folder."""
        if self.augment == AugmentConfig():
            return self.recipe_key
        return f"{self.recipe_key}-augmented-{hashlib.sha256(self.augment_key.encode()).hexdigest()[:16]}"

    @property
    def augment_key(self) -> str:
        """Augmentations depend on the model that wrote them and on the augmentation settings."""
        return f"{self.augment_fingerprint}-{self.augment.fingerprint()}"

    def peft_config(self, recipe: Recipe) -> dict:
        return peft_config(recipe.rank, recipe.alpha, recipe.dropout, recipe.target_modules, str(self.model_path))

    def provenance(self, **extra: object) -> dict:
        return {
            "prag_version": __version__,
            "model": self.model_spec,
            "model_fingerprint": self.model_fingerprint,
            "recipe": self.settings.recipe.name,
            "recipe_hash": self.recipe_key,
            "augment_hash": self.augment.fingerprint(),
            "augment_model": self.augment_model_spec,
            **extra,
        }

    def adapter_meta(self, recipe: Recipe, **extra: object) -> dict:
        return self.provenance(recipe_config=asdict(recipe), **extra)
