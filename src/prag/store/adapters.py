"""Adapter files in peft's layout, keyed by (document content hash, model fingerprint, recipe hash).

Each adapter is a folder `adapter_config.json` + `adapter_model.safetensors` that
`peft.PeftModel.from_pretrained` loads as is, plus `prag_meta.json` recording what made it and the
sha256 of the other two, so that a file cut short or changed on disk is found before it is used.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections import OrderedDict
from pathlib import Path

from safetensors.torch import load as load_tensors
from safetensors.torch import save_file

from prag.errors import DamagedError, EncodingError
from prag.lora.adapter import LoRAAdapter
from prag.store.files import file_digests, read_json_object, read_verified, set_aside, staged_folder, write_json_atomic

PEFT_PREFIX = "base_model.model."
WEIGHTS, CONFIG, META = "adapter_model.safetensors", "adapter_config.json", "prag_meta.json"
DIGESTS = "sha256"
"""prag_meta.json's record of the weights' and config's sha256, written by `save`, checked by every read."""


class AdapterStore:
    def __init__(self, root: Path, model_fingerprint: str, recipe_hash: str):
        self.folder = root / model_fingerprint / recipe_hash
        self._verdicts: dict[str, tuple[tuple, str | None]] = {}
        """content hash -> (the files' stamps when checked, what was wrong with them or None)."""

    def path(self, content_hash: str) -> Path:
        return self.folder / content_hash

    def has(self, content_hash: str) -> bool:
        """A sound adapter is stored. A damaged one counts as missing, so that status, build, the engine and
        the service's queue all treat it as not encoded, and the next build encodes it again."""
        return self.path(content_hash).is_dir() and self.damage(content_hash) is None

    def damage(self, content_hash: str) -> str | None:
        """What is wrong with the stored adapter, in one line; None when it is sound or there is none.
        Checking reads and hashes its files (0.9 ms for SmolLM2-135M's 1.5 MB adapter); the verdict is
        kept while the files' inode, size and modification time stay the same, so that status, build and
        answering ask again for the price of a few stats (20 µs)."""
        folder = self.path(content_hash)
        if not folder.is_dir():
            return None
        stamp = tuple(_stamp(folder / name) for name in (WEIGHTS, CONFIG, META))
        verdict = self._verdicts.get(content_hash)
        if verdict is None or verdict[0] != stamp:
            verdict = self._verdicts[content_hash] = (stamp, self._check(content_hash))
        return verdict[1]

    def _check(self, content_hash: str) -> str | None:
        try:
            verified_files(self.path(content_hash))
        except DamagedError as e:
            return str(e)
        return None

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
            save_file(tensors, stage / WEIGHTS, metadata={"format": "pt"})
            write_json_atomic(stage / CONFIG, peft_config)
            write_json_atomic(stage / META, {**meta, DIGESTS: file_digests(stage, [WEIGHTS, CONFIG])})
        self._verdicts.pop(content_hash, None)
        return final

    def load(self, content_hash: str) -> LoRAAdapter:
        """Raises DamagedError when the stored files are not those saved."""
        return load_adapter(self.path(content_hash))

    def delete(self, content_hash: str) -> None:
        """Removes the adapter by renaming it aside first, so no reader sees half a folder."""
        folder = self.path(content_hash)
        if folder.is_dir():
            shutil.rmtree(set_aside(folder), ignore_errors=True)
        self._verdicts.pop(content_hash, None)

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
    """The adapter in `folder`, from bytes checked against the sha256 recorded when it was saved."""
    files = verified_files(folder)
    config = json.loads(files[CONFIG])
    tensors = load_tensors(files[WEIGHTS])
    factors = {}
    for key, a in tensors.items():
        if key.endswith(".lora_A.weight"):
            name = key[len(PEFT_PREFIX) : -len(".lora_A.weight")]
            factors[name] = (a, tensors[f"{PEFT_PREFIX}{name}.lora_B.weight"])
    return LoRAAdapter(factors, rank=config["r"], alpha=config["lora_alpha"])


def verified_files(folder: Path) -> dict[str, bytes]:
    """The adapter's config and weights as saved; raises DamagedError naming the content and what is wrong
    (an adapter saved before prag recorded digests has none, and counts as damaged: it is encoded again)."""
    what = f"the adapter of content {folder.name[:12]}"
    recorded = read_json_object(folder / META, what).get(DIGESTS)
    return read_verified(folder, [CONFIG, WEIGHTS], recorded if isinstance(recorded, dict) else {}, what)


def _stamp(path: Path) -> tuple[int, int, int] | None:
    # A replaced file has a new inode even when its size and modification time (coarse: a clock tick) repeat.
    try:
        stat = os.stat(path)
    except FileNotFoundError:
        return None
    return stat.st_ino, stat.st_size, stat.st_mtime_ns


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
        """Is a sound adapter stored for this content? Asked of the store, so a deleted or damaged one is
        gone at once."""
        return self.store.has(content_hash)

    def damage(self, content_hash: str) -> str | None:
        return self.store.damage(content_hash)

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
