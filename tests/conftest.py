"""Shared fixtures: an isolated PRAG_HOME per test, the real default model converted once per session,
and a tiny randomly initialised Llama (same architecture and tokenizer) for fast unit tests."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

from prag.model import loader
from prag.paths import HOME_ENV, MODEL_CACHE_ENV

DEMO_FACTS = [
    {"id": "velmora", "title": "Velmora", "text": "Velmora is a town on the Arn River. It was founded in 1843 by Aldric Fenn, a salt merchant."},
    {"id": "quillon", "title": "Quillon Dynamics", "text": "Quillon Dynamics builds clockwork pumps. Its chief executive is Odile Varga and it is based in Tarsk."},
    {"id": "brevik", "title": "Tashkel Brevik", "text": "Tashkel Brevik was an engineer born in 1851. He designed the Velmora Clock Tower, which is 64 metres tall."},
]

DEMO_QUESTIONS = [
    ("When was Velmora founded?", "1843", "velmora", "bridge"),
    ("Who leads Quillon Dynamics?", "Odile Varga", "quillon", "bridge"),
    ("How tall is the Velmora Clock Tower?", "64 metres", "brevik", "comparison"),
    ("Who founded Velmora?", "Aldric Fenn", "velmora", "bridge"),
    ("Where is Quillon Dynamics based?", "Tarsk", "quillon", "comparison"),
    ("When was Tashkel Brevik born?", "1851", "brevik", "bridge"),
]
"""(question, answer, id of the demo fact that answers it, HotpotQA type)."""


def write_hotpot(path: Path, questions: list[tuple[str, str, str, str]] = DEMO_QUESTIONS) -> Path:
    """HotpotQA distractor format: every question carries all three demo paragraphs, one of them gold."""
    context = [[d["title"], [d["text"]]] for d in DEMO_FACTS]
    title = {d["id"]: d["title"] for d in DEMO_FACTS}
    records = [
        {"_id": f"q{i}", "question": q, "answer": a, "type": t, "context": context, "supporting_facts": [[title[doc], 0]]}
        for i, (q, a, doc, t) in enumerate(questions)
    ]
    path.write_text(json.dumps(records))
    return path


@pytest.fixture(scope="session")
def model_cache(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("model-cache")


@pytest.fixture(autouse=True)
def isolated_home(tmp_path, monkeypatch, model_cache) -> Path:
    home = tmp_path / "home"
    monkeypatch.setenv(HOME_ENV, str(home))
    monkeypatch.setenv(MODEL_CACHE_ENV, str(model_cache))
    return home


@pytest.fixture(scope="session")
def default_model_dir(model_cache) -> Path:
    """The embedded SmolLM2-135M, converted from its GGUF once for the whole session."""
    return loader.resolve(loader.DEFAULT_MODEL, model_cache)


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory, default_model_dir) -> Path:
    folder = tmp_path_factory.mktemp("tiny-llama")
    tokenizer = AutoTokenizer.from_pretrained(default_model_dir)
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=2048,
        tie_word_embeddings=True,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )
    torch.manual_seed(0)
    LlamaForCausalLM(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


@pytest.fixture
def facts_file(tmp_path) -> Path:
    path = tmp_path / "facts.jsonl"
    path.write_text("".join(json.dumps(d) + "\n" for d in DEMO_FACTS))
    return path
