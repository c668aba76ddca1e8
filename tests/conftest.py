"""Shared fixtures: an isolated PRAG_HOME per test, a tiny random Llama with a tokenizer built in code
(the unit tier: no real model, starts in seconds), and the real default model, converted once into a
cache shared by every test session (the integration tier).

A test that uses `default_model_dir`, directly or through another fixture, is marked `integration`:
`make test-unit` runs the others alone.
"""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

from prag.process import configure_process

configure_process()  # the test process starts here, before transformers is imported

import pytest  # noqa: E402

from prag.config import DEFAULT_RECIPE, AugmentConfig, Settings  # noqa: E402
from prag.paths import HOME_ENV, MODEL_CACHE_ENV  # noqa: E402

from .fixtures.facts import write_facts  # noqa: E402
from .fixtures.tiny_model import save_tiny_model  # noqa: E402

SHARED_MODEL_CACHE = Path(os.environ.get("PRAG_TEST_MODEL_CACHE", Path(__file__).resolve().parents[1] / ".cache" / "test-models"))
"""Where the real default model is converted, once for all test sessions (the conversion takes a minute)."""

FAST = Settings(
    recipe=replace(DEFAULT_RECIPE, epochs=1),
    augment=AugmentConfig(rewrite_tokens=16, qa_tokens_per_pair=8, max_attempts=2),
)
"""Short augmentations and one epoch: the unit tier checks what is stored and answered, not quality."""


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "default_model_dir" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.integration)


@pytest.fixture(scope="session")
def model_cache() -> Path:
    SHARED_MODEL_CACHE.mkdir(parents=True, exist_ok=True)
    return SHARED_MODEL_CACHE


@pytest.fixture(autouse=True)
def isolated_home(tmp_path, monkeypatch, model_cache) -> Path:
    home = tmp_path / "home"
    monkeypatch.setenv(HOME_ENV, str(home))
    monkeypatch.setenv(MODEL_CACHE_ENV, str(model_cache))
    return home


@pytest.fixture(scope="session")
def default_model_dir(model_cache) -> Path:
    """The embedded SmolLM2-135M, converted from its GGUF once into the shared cache."""
    from prag.model import loader

    return loader.resolve(loader.DEFAULT_MODEL, model_cache)


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory) -> Path:
    return save_tiny_model(tmp_path_factory.mktemp("tiny-llama"))


@pytest.fixture(scope="session")
def other_tiny_model_dir(tmp_path_factory) -> Path:
    """Another tiny model (other weights, the same tokenizer): a second model, e.g. one that augments."""
    return save_tiny_model(tmp_path_factory.mktemp("tiny-llama-other"), seed=1)


@pytest.fixture
def facts_file(tmp_path) -> Path:
    return write_facts(tmp_path / "facts.jsonl")


@pytest.fixture
def tiny(tiny_model_dir, facts_file):
    """A collection of the three demo facts on the tiny model, added but not built."""
    from prag import Prag

    prag = Prag(model=str(tiny_model_dir), settings=FAST)
    prag.add([facts_file])
    return prag
