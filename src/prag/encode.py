"""The paper's parametric document encoding: one LoRA per document, trained on its augmented data.

Many documents train at once. Each row of a batch is one document's next training sequence and sees
only that document's adapter (per-sequence factors, see `lora.layer`); the batch loss is the sum of the
rows' losses, so each adapter's gradient is exactly its own document's. Each document still takes the
steps it would take alone — batch size 1, its own seeded order, its own AdamW state — so batching changes
the order of floating-point sums, not the method (tests/test_encode.py bounds the difference).

Work the method does not need is skipped: sequences are padded only to the longest row of their batch
(documents are bucketed by length first), and the vocabulary projection is computed only at the
positions whose next token is in the loss.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Iterator

import torch
from torch import Tensor, nn

from prag.config import Recipe
from prag.lora import LoRAAdapter, LoRAPlug, trainable_factors
from prag.model.generate import Generator, TrainingSequence
from prag.model.head_loss import head_cross_entropy
from prag.model.exemplars import EXEMPLARS
from prag.model.prompts import answer_assistant_turn, cot_assistant_turn, user_turn
from prag.text import sentence_holding
from prag.types import Augmentation, Document, QAPair

IGNORE_INDEX = -100


@dataclass(frozen=True)
class BatchLimits:
    """How many documents train together. Memory grows with rows × longest sequence."""

    max_documents: int = 8
    max_tokens: int = 1536
    """Bound on rows × padded length per forward pass in fp32: about 2 MB of saved activations per token
    on SmolLM2-135M (measured), so this keeps encoding under 4 GB whatever the documents' lengths.
    bf16 activations take half the memory, so twice as many tokens fit the same bound."""

    def for_dtype(self, dtype: torch.dtype) -> "BatchLimits":
        return replace(self, max_tokens=self.max_tokens * 32 // torch.finfo(dtype).bits)


@dataclass(frozen=True)
class TrainingPlan:
    """One document's training: its sequences and the order it visits them in, over all epochs."""

    sequences: list[TrainingSequence]
    schedule: list[int]

    @property
    def longest(self) -> int:
        return max(len(s.input_ids) for s in self.sequences)


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
    """D_i = {(d_i^k, q_i^j, a_i^j)}: each QA pair with the passage, with each rewrite, and alone (paper §3.2),
    or the authors' layout (the first half of the pairs in context, the rest alone).
    With no valid QA pair the passage itself is the training text, so no document is left without knowledge."""
    prompt = TrainingPrompt(recipe)
    sequences = []
    for index, pair in enumerate(aug.qa_pairs):
        kinds = sequence_kinds(recipe, index, len(aug.qa_pairs))
        contexts: list[list[str]] = []
        if "passage" in kinds:
            contexts.append([doc.passage])
        if "rewrite" in kinds:
            contexts.extend([rewrite] for rewrite in aug.rewrites)
        if "alone" in kinds:
            contexts.append([])
        assistant = prompt.assistant(pair, [doc.text, *aug.rewrites])
        for passages in contexts:
            user = prompt.user(pair.question, passages)
            sequences.append(generator.training_sequence(user, assistant, recipe.loss_on, passages, recipe.end_token))
    if "document" in recipe.sequences or not aug.qa_pairs:
        sequences.append(generator.plain_sequence(doc.passage))
    if "rewritten" in recipe.sequences:
        sequences.extend(generator.plain_sequence(rewrite) for rewrite in aug.rewrites)
    return sequences


def sequence_kinds(recipe: Recipe, index: int, pairs: int) -> tuple[str, ...]:
    """The sequences QA pair `index` of `pairs` trains in: the recipe's kinds for every pair, or in the
    authors' layout the in-context kinds for the first ceil(pairs/2) pairs and `alone` for the rest."""
    if recipe.layout == "every":
        return recipe.sequences
    if index < math.ceil(pairs / 2):
        return tuple(k for k in recipe.sequences if k in ("passage", "rewrite"))
    return ("alone",)


class TrainingPrompt:
    """The prompt training sequences are written in: the paper's direct answer, or the chain-of-thought
    prompt the answers are asked in, with the same worked examples and a target in their shape."""

    def __init__(self, recipe: Recipe):
        if recipe.prompt == "answer" and not recipe.answer_prompt:
            raise ValueError("a recipe trained in the answer prompt needs it filled in (Settings does this)")
        kind, _, exemplars = recipe.answer_prompt.partition(":")
        self.exemplars = EXEMPLARS[exemplars] if kind == "cot" else None

    def user(self, question: str, passages: list[str]) -> str:
        return user_turn(question, passages, self.exemplars)

    def assistant(self, pair: QAPair, sources: list[str]) -> str:
        """Short: "The answer is …". Chain of thought: the first source sentence holding the answer (the
        knowledge the step needs), then "So the answer is …"."""
        evidence = next((s for s in (sentence_holding(text, pair.answer) for text in sources) if s), "")
        return self.answer_turn(pair, evidence)

    def answer_turn(self, pair: QAPair, evidence: str) -> str:
        """The answer in this prompt's shape, `evidence` before it when the prompt reasons step by step."""
        return answer_assistant_turn(pair.answer) if self.exemplars is None else cot_assistant_turn(evidence, pair.answer)


def warmup_recipe(recipe: Recipe) -> Recipe:
    """The warm-up LoRA trains from peft's initialisation for one epoch, with the documents' other settings."""
    return replace(recipe, init="random", warmup="", epochs=1)


def train_warmup(generator: Generator, pairs: list[QAPair], recipe: Recipe, evidence: list[str] | None = None) -> LoRAAdapter:
    """The paper's warm-up (Table 2): one LoRA trained on question → answer with no passage, so that it
    learns the task's answer format and document adapters can start from it. With the recipe's
    `warmup_target="evidence"`, `evidence[i]` (pair i's supporting sentences) leads its chain-of-thought answer."""
    recipe = warmup_recipe(recipe)
    sequences = warmup_sequences(generator, pairs, recipe, evidence)
    plan = TrainingPlan(sequences, training_schedule(len(sequences), recipe))
    return Encoder(generator, recipe).train([plan])[0]


def warmup_sequences(generator: Generator, pairs: list[QAPair], recipe: Recipe, evidence: list[str] | None = None) -> list[TrainingSequence]:
    """The warm-up's training data: each question alone in the answer prompt, its answer (led by its
    evidence when the recipe's warm-up target is `evidence`) as the target."""
    prompt = TrainingPrompt(recipe)
    chains = evidence if recipe.warmup_target == "evidence" and evidence is not None else [""] * len(pairs)
    return [
        generator.training_sequence(prompt.user(p.question, []), prompt.answer_turn(p, chain), recipe.loss_on, [], recipe.end_token)
        for p, chain in zip(pairs, chains, strict=True)
    ]


def training_schedule(count: int, recipe: Recipe) -> list[int]:
    """`recipe.epochs` passes over `count` sequences, each in a fresh order drawn from the recipe's seed."""
    order = torch.Generator().manual_seed(recipe.seed)
    return [i for _ in range(recipe.epochs) for i in torch.randperm(count, generator=order).tolist()]


def plan_batches(plans: list[TrainingPlan], limits: BatchLimits) -> list[list[int]]:
    """Groups documents that train well together: the same number of steps (so none idles) and similar
    sequence lengths (so little padding). Returns indices into `plans`."""
    order = sorted(range(len(plans)), key=lambda i: (len(plans[i].schedule), plans[i].longest))
    batches: list[list[int]] = []
    for i in order:
        current = batches[-1] if batches else None
        if current is not None:
            rows = len(current) + 1
            longest = max(plans[j].longest for j in (*current, i))
            if rows <= limits.max_documents and rows * longest <= limits.max_tokens:
                current.append(i)
                continue
        batches.append([i])
    return batches


class Encoder:
    def __init__(
        self,
        generator: Generator,
        recipe: Recipe,
        start: LoRAAdapter | None = None,
        limits: BatchLimits = BatchLimits(),
    ):
        self.generator = generator
        self.recipe = recipe
        self.start = start or initial_adapter(generator.plug, recipe)
        self.dtype = next(generator.model.parameters()).dtype
        self.limits = limits.for_dtype(self.dtype)
        head = generator.model.get_output_embeddings()
        if getattr(head, "bias", None) is not None:
            raise ValueError("models whose vocabulary head has a bias are not supported")
        self._head_weight = head.weight

    def plan(self, doc: Document, aug: Augmentation) -> TrainingPlan:
        sequences = training_sequences(self.generator, doc, aug, self.recipe)
        return TrainingPlan(sequences, training_schedule(len(sequences), self.recipe))

    def encode(self, doc: Document, aug: Augmentation) -> LoRAAdapter:
        return next(self.encode_many([(doc, aug)]))[1]

    def encode_many(self, items: list[tuple[Document, Augmentation]]) -> Iterator[tuple[int, LoRAAdapter]]:
        """Yields (index into `items`, adapter) as each batch of documents finishes, so callers can store
        adapters as they come and an interrupted build loses at most one batch."""
        plans = [self.plan(doc, aug) for doc, aug in items]
        for batch in plan_batches(plans, self.limits):
            adapters = self.train([plans[i] for i in batch])
            yield from zip(batch, adapters)

    def train(self, plans: list[TrainingPlan]) -> list[LoRAAdapter]:
        """Trains one adapter per plan, all in the same forward and backward passes."""
        adapters = [self.start.detached() for _ in plans]
        params = [t.requires_grad_(True) for adapter in adapters for pair in adapter.factors.values() for t in pair]
        optimizer = torch.optim.AdamW(params, lr=self.recipe.learning_rate, weight_decay=self.recipe.weight_decay)
        model = self.generator.model
        attention = model.config._attn_implementation
        # For training sequences of a few hundred tokens, plain matmul attention runs forward and
        # backward faster on CPU than the fused kernel, whose bf16 backward is slow (4 demo documents
        # on SmolLM2-135M: 14.2 s against 16.2 s in bf16, 23.3 s against 24.5 s in fp32).
        model.set_attn_implementation("eager")
        model.train()
        try:
            for step in range(max(len(plan.schedule) for plan in plans)):
                rows = [i for i, plan in enumerate(plans) if step < len(plan.schedule)]
                sequences = [plans[i].sequences[plans[i].schedule[step]] for i in rows]
                # A document whose schedule has ended gets no gradient: AdamW skips parameters whose
                # grad is None, so neither its momentum nor its weight decay moves it any further.
                optimizer.zero_grad(set_to_none=True)
                self.loss(sequences, [adapters[i] for i in rows]).backward()
                optimizer.step()
        finally:
            model.eval()
            model.set_attn_implementation(attention)
        return [adapter.detached() for adapter in adapters]

    def loss(self, sequences: list[TrainingSequence], adapters: list[LoRAAdapter]) -> Tensor:
        """Σ over rows of the row's mean next-token loss: each row's term is what batch size 1 would give."""
        input_ids, attention_mask, targets = right_padded(sequences, self.generator.tokenizer.pad_token_id)
        model = self.generator.model
        with self.generator.plug.plugged(trainable_factors(adapters, self.dtype)):
            hidden = model.get_decoder()(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        taken = targets != IGNORE_INDEX
        # Weight 1/n on each of a row's n loss tokens: the sum over rows of each row's mean.
        token_weights = (1.0 / taken.sum(1, keepdim=True)).expand_as(taken)[taken].float()
        return head_cross_entropy(hidden[taken], self._head_weight, targets[taken], token_weights)


def right_padded(sequences: list[TrainingSequence], pad_id: int) -> tuple[Tensor, Tensor | None, Tensor]:
    """(input ids, attention mask or None when no row is padded, next-token targets with IGNORE_INDEX
    wherever the next token is padding or outside the loss)."""
    length = max(len(s.input_ids) for s in sequences)
    input_ids = torch.full((len(sequences), length), pad_id, dtype=torch.long)
    mask = torch.zeros((len(sequences), length), dtype=torch.long)
    targets = torch.full((len(sequences), length), IGNORE_INDEX, dtype=torch.long)
    for row, s in enumerate(sequences):
        ids = torch.tensor(s.input_ids)
        input_ids[row, : len(ids)] = ids
        mask[row, : len(ids)] = 1
        in_loss = torch.tensor(s.in_loss[1:])
        targets[row, : len(ids) - 1] = ids[1:].masked_fill(~in_loss, IGNORE_INDEX)
    return input_ids, (None if bool(mask.all()) else mask), targets
