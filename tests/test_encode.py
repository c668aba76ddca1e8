"""Which tokens each loss setting trains on, and that encoding moves the adapter."""

from __future__ import annotations

from dataclasses import replace

import pytest
import torch

from prag.config import DEFAULT_RECIPE
from prag.encode import Encoder, training_sequences
from prag.model import loader
from prag.model.generate import Generator
from prag.types import Augmentation, Document, QAPair

DOC = Document("d", "Velmora was founded in 1843 by Aldric Fenn.", "Velmora")
AUG = Augmentation(("In 1843 Aldric Fenn founded Velmora.",), (QAPair("When was Velmora founded?", "1843"),), 1)


@pytest.fixture(scope="module")
def generator(tiny_model_dir) -> Generator:
    return Generator(loader.load(str(tiny_model_dir), tiny_model_dir.parent), DEFAULT_RECIPE.target_modules)


def trained_text(generator: Generator, loss_on: str, kind: int) -> str:
    sequences = training_sequences(generator, DOC, AUG, replace(DEFAULT_RECIPE, loss_on=loss_on))
    sequence = sequences[kind]
    kept = [t for t, keep in zip(sequence.input_ids, sequence.in_loss) if keep]
    return generator.tokenizer.decode(kept)


def test_paper_sequences_are_passage_rewrite_and_alone(generator):
    texts = [generator.tokenizer.decode(s.input_ids) for s in training_sequences(generator, DOC, AUG, DEFAULT_RECIPE)]
    assert len(texts) == 3
    assert DOC.passage in texts[0] and AUG.rewrites[0] in texts[1]
    assert "Passage" not in texts[2] and all("The answer is 1843." in t for t in texts)


def test_loss_masks(generator):
    everything = trained_text(generator, "all", 0)
    assert "Question: When was Velmora founded?" in everything and DOC.passage in everything
    answer = trained_text(generator, "answer", 0)
    assert answer.startswith("The answer is 1843.") and "Question" not in answer
    content = trained_text(generator, "content", 0)
    assert DOC.passage in content and "The answer is 1843." in content
    assert "Question" not in content and "knowledge provided" not in content


def test_encoding_changes_the_adapter_from_its_start(generator):
    encoder = Encoder(generator, replace(DEFAULT_RECIPE, epochs=1))
    adapter = encoder.encode(DOC, AUG)
    name = next(iter(adapter.factors))
    assert not torch.equal(adapter.factors[name][1], encoder.start.factors[name][1])
    assert encoder.start.factors[name][1].abs().sum() == 0  # the shared start is not modified in place
