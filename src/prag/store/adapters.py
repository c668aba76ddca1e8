"""Adapter files in peft's layout, keyed by (document content hash, model fingerprint, recipe hash).

Each adapter is a folder `adapter_config.json` + `adapter_model.safetensors` that
`peft.PeftModel.from_pretrained` loads as is, plus `prag_meta.json` recording what made it.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from collections import OrderedDict
from pathlib import Path

from safetensors.torch import load_file, save_file

from prag.errors import EncodingError
from prag.lora.adapter import LoRAAdapter
from prag.store.files import set_aside, staged_folder, write_json_atomic

PEFT_PREFIX = "base_model.model."


class AdapterStore:
    def __init__(self, root: Path, model_fingerprint: str, recipe_hash: str):
        self.folder = root / model_fingerprint / recipe_hash

    def path(self, content_hash: str) -> Path:
        return self.folder / content_hash

    def has(self, content_hash: str) -> bool:
        # The folder appears only by an atomic rename of a complete one, so existence means complete.
        return (self.path(content_hash) / "adapter_model.safetensors").is_file()

    def save(self, content_hash: str, adapter: LoRAAdapter, peft_config: dict, meta: dict) -> Path:
        """Refuses an adapter with a NaN or infinite value (peft's `safe_merge` idea): summed into the
        model it would poison every answer it joins, so it never becomes a file."""
        broken = adapter.non_finite()
        if broken:
            raise EncodingError(f"training diverged: non-finite values in {len(broken)} projection(s), e.g. {broken[0]}")
        final = self.path(content_hash)
        with staged_folder(final) as stage:
            tensors = {}
            for name, (a, b) in adapter.factors.items():
                tensors[f"{PEFT_PREFIX}{name}.lora_A.weight"] = a.detach().contiguous()
                tensors[f"{PEFT_PREFIX}{name}.lora_B.weight"] = b.detach().contiguous()
            save_file(tensors, stage / "adapter_model.safetensors", metadata={"format": "pt"})
            write_json_atomic(stage / "adapter_config.json", peft_config)
            write_json_atomic(stage / "prag_meta.json", meta)
        return final

    def load(self, content_hash: str) -> LoRAAdapter:
        return load_adapter(self.path(content_hash))

    def delete(self, content_hash: str) -> None:
        """Removes the adapter by renaming it aside first, so no reader sees half a folder."""
        folder = self.path(content_hash)
        if folder.is_dir():
            shutil.rmtree(set_aside(folder), ignore_errors=True)

    def nbytes(self, content_hash: str) -> int:
        folder = self.path(content_hash)
        return sum(f.stat().st_size for f in folder.iterdir()) if folder.is_dir() else 0


def adapter_digest(adapter: LoRAAdapter) -> str:
    """Identifies an adapter by its values, e.g. a warm-up LoRA that document adapters start from."""
    digest = hashlib.sha256()
    for name in sorted(adapter.factors):
        for tensor in adapter.factors[name]:
            digest.update(name.encode())
            digest.update(tensor.detach().float().contiguous().numpy().tobytes())
    return digest.hexdigest()[:16]


def load_adapter(folder: Path) -> LoRAAdapter:
    config = json.loads((folder / "adapter_config.json").read_text())
    tensors = load_file(folder / "adapter_model.safetensors")
    factors = {}
    for key, a in tensors.items():
        if key.endswith(".lora_A.weight"):
            name = key[len(PEFT_PREFIX) : -len(".lora_A.weight")]
            factors[name] = (a, tensors[f"{PEFT_PREFIX}{name}.lora_B.weight"])
    return LoRAAdapter(factors, rank=config["r"], alpha=config["lora_alpha"])


def peft_config(rank: int, alpha: float, dropout: float, target_modules: tuple[str, ...], base_model: str) -> dict:
    return {
        "peft_type": "LORA",
        "task_type": "CAUSAL_LM",
        "r": rank,
        "lora_alpha": alpha,
        "lora_dropout": dropout,
        "target_modules": list(target_modules),
        "bias": "none",
        "fan_in_fan_out": False,
        "init_lora_weights": True,
        "inference_mode": True,
        "use_rslora": False,
        "base_model_name_or_path": base_model,
    }


class AdapterCache:
    """Least-recently-used adapters in memory, bounded by bytes: a cached adapter is not read from disk again."""

    def __init__(self, store: AdapterStore, max_bytes: int):
        self.store = store
        self.max_bytes = max_bytes
        self._items: OrderedDict[str, LoRAAdapter] = OrderedDict()
        self._bytes = 0
        self.disk_reads = 0

    def __len__(self) -> int:
        return len(self._items)

    def has(self, content_hash: str) -> bool:
        """Is there a stored adapter for this content? Asked of the store, so a deleted one is gone at once."""
        return self.store.has(content_hash)

    def get(self, content_hash: str) -> LoRAAdapter:
        if content_hash in self._items:
            self._items.move_to_end(content_hash)
            return self._items[content_hash]
        adapter = self.store.load(content_hash)
        self.disk_reads += 1
        self._items[content_hash] = adapter
        self._bytes += adapter.nbytes
        while self._bytes > self.max_bytes and len(self._items) > 1:
            _, evicted = self._items.popitem(last=False)
            self._bytes -= evicted.nbytes
        return adapter
