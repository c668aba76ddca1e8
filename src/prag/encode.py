"""The paper's parametric document encoding: one LoRA per document, trained on its augmented data."""

from __future__ import annotations

import math

import torch
from torch import nn

from prag.config import Recipe
from prag.lora import LoRAAdapter, LoRAPlug, trainable_factors
from prag.model.generate import Generator, TrainingSequence
from prag.model.prompts import answer_assistant_turn, answer_user_turn
from prag.types import Augmentation, Document

IGNORE_INDEX = -100


def initial_adapter(plug: LoRAPlug, recipe: Recipe) -> LoRAAdapter:
    """peft's default LoRA initialisation (A Kaiming-uniform, B zero), drawn once from the recipe's seed
    so that every document's adapter starts from the same point."""
    generator = torch.Generator().manual_seed(recipe.seed)
    factors = {}
    for name, layer in sorted(plug.layers.items()):
        a = torch.empty(recipe.rank, layer.in_features)
        nn.init.kaiming_uniform_(a, a=math.sqrt(5), generator=generator)
        factors[name] = (a, torch.zeros(layer.out_features, recipe.rank))
    return LoRAAdapter(factors, recipe.rank, recipe.alpha)


def training_sequences(generator: Generator, doc: Document, aug: Augmentation, recipe: Recipe) -> list[TrainingSequence]:
    """D_i = {(d_i^k, q_i^j, a_i^j)}: each QA pair with the passage, with each rewrite, and alone (paper §3.2).
    With no valid QA pair the passage itself is the training text, so no document is left without knowledge."""
    sequences = []
    for pair in aug.qa_pairs:
        contexts: list[list[str]] = []
        if "passage" in recipe.sequences:
            contexts.append([doc.passage])
        if "rewrite" in recipe.sequences:
            contexts.extend([rewrite] for rewrite in aug.rewrites)
        if "alone" in recipe.sequences:
            contexts.append([])
        for passages in contexts:
            user = answer_user_turn(pair.question, passages)
            assistant = answer_assistant_turn(pair.answer)
            sequences.append(generator.training_sequence(user, assistant, recipe.loss_on, passages))
    if "document" in recipe.sequences or not aug.qa_pairs:
        sequences.append(generator.plain_sequence(doc.passage))
    return sequences


class Encoder:
    def __init__(self, generator: Generator, recipe: Recipe, start: LoRAAdapter | None = None):
        self.generator = generator
        self.recipe = recipe
        self.start = start or initial_adapter(generator.plug, recipe)

    def encode(self, doc: Document, aug: Augmentation) -> LoRAAdapter:
        """Batch size 1, no padding, AdamW, `recipe.epochs` passes in a seeded order."""
        sequences = training_sequences(self.generator, doc, aug, self.recipe)
        adapter = self.start.detached()
        params = [t.requires_grad_(True) for pair in adapter.factors.values() for t in pair]
        optimizer = torch.optim.AdamW(params, lr=self.recipe.learning_rate, weight_decay=self.recipe.weight_decay)
        order = torch.Generator().manual_seed(self.recipe.seed)
        self.generator.model.train()
        try:
            for _ in range(self.recipe.epochs):
                for index in torch.randperm(len(sequences), generator=order).tolist():
                    self._step(adapter, sequences[index], optimizer)
        finally:
            self.generator.model.eval()
        return adapter.detached()

    def _step(self, adapter: LoRAAdapter, sequence: TrainingSequence, optimizer: torch.optim.Optimizer) -> float:
        input_ids = torch.tensor([sequence.input_ids])
        labels = input_ids.masked_fill(~torch.tensor([sequence.in_loss]), IGNORE_INDEX)
        optimizer.zero_grad(set_to_none=True)
        with self.generator.plug.plugged(trainable_factors(adapter)):
            loss = self.generator.model(input_ids=input_ids, labels=labels).loss
        loss.backward()
        optimizer.step()
        return loss.item()
