"""Warm-up LoRAs (the paper's Table 2): adapter folders keyed by their values' digest, and one pointer
file per name and documents' recipe saying which digest that name means and what it was trained on."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from prag.config import Recipe
from prag.errors import DamagedError, NotBuiltError
from prag.lora.adapter import LoRAAdapter
from prag.store.adapters import AdapterStore, adapter_digest
from prag.store.files import read_json_object, write_json_atomic


class WarmupStore:
    def __init__(self, root: Path, model_fingerprint: str):
        self.adapters = AdapterStore(root, model_fingerprint, "lora")

    def save(self, name: str, recipe: Recipe, adapter: LoRAAdapter, peft_config: dict, meta: dict, source: dict) -> str:
        """Stores the adapter, then points `name` (for documents trained with `recipe`) at it; returns its digest."""
        digest = adapter_digest(adapter)
        self.adapters.save(digest, adapter, peft_config, meta)
        write_json_atomic(self._pointer(name, recipe), {"digest": digest, **source})
        return digest

    def find(self, name: str, recipe: Recipe, source: dict) -> str | None:
        """The digest of the warm-up named `name` when it was trained on exactly `source`'s questions and
        is still stored; None when it must be trained."""
        path = self._pointer(name, recipe)
        if not path.is_file():
            return None
        try:
            record = read_json_object(path, f"the warm-up pointer {path.name}")
        except DamagedError:
            return None  # trained again, and the pointer written anew
        same = all(record.get(key) == value for key, value in source.items())
        digest = record.get("digest")
        return digest if same and isinstance(digest, str) and self.adapters.has(digest) else None

    def record(self, name: str, recipe: Recipe) -> dict:
        """The digest of the warm-up named `name` for documents trained with `recipe`, and its questions."""
        path = self._pointer(name, recipe)
        if not path.is_file():
            raise NotBuiltError(
                f"no warm-up LoRA named {name!r} for this model and the {recipe.name!r} recipe in {recipe.precision}: "
                "run `prag warmup` first, with the same --model, --recipe and --precision"
            )
        try:
            record = read_json_object(path, f"the warm-up pointer {path.name}")
        except DamagedError as e:
            raise DamagedError(f"{e}: run `prag warmup` again") from None
        if not isinstance(record.get("digest"), str) or not isinstance(record.get("question_hashes"), list):
            raise DamagedError(f"the warm-up pointer {path.name} is damaged (it names no warm-up LoRA): run `prag warmup` again")
        return record

    def load(self, digest: str) -> LoRAAdapter:
        if not self.adapters.has(digest):
            why = self.adapters.damage(digest) or f"the warm-up LoRA {digest} is missing"
            raise NotBuiltError(f"{why}: run `prag warmup` again")
        return self.adapters.load(digest)

    def _pointer(self, name: str, recipe: Recipe) -> Path:
        # Keyed by the recipe the documents will train with: a warm-up trained with another learning rate
        # or loss must not be picked up by a run of this recipe.
        documents_recipe = replace(recipe, init="random", warmup="")
        return self.adapters.folder / f"{name}-{documents_recipe.fingerprint()}.json"
