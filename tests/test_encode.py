"""Which tokens each loss setting trains on, and that encoding moves the adapter."""

from __future__ import annotations

from dataclasses import replace

import pytest
import torch

from prag.config import AUTHORS_RECIPE, DEFAULT_RECIPE, PAPER_RECIPE, AnswerConfig, Settings
from prag.encode import BatchLimits, Encoder, training_schedule, training_sequences, warmup_sequences
from prag.lora import LoRAAdapter, trainable_factors
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


def decoded_sequences(generator: Generator, recipe, aug: Augmentation = AUG) -> list[str]:
    return [generator.tokenizer.decode(s.input_ids) for s in training_sequences(generator, DOC, aug, recipe)]


def test_paper_sequences_are_passage_rewrite_and_alone(generator):
    texts = decoded_sequences(generator, PAPER_RECIPE)
    assert len(texts) == 3
    assert DOC.passage in texts[0] and AUG.rewrites[0] in texts[1]
    assert "Passage" not in texts[2] and all("The answer is 1843." in t for t in texts)


def test_the_default_trains_each_pair_with_the_passage_and_alone(generator):
    texts = decoded_sequences(generator, DEFAULT_RECIPE)
    assert len(texts) == 2 and DOC.passage in texts[0] and "Passage" not in texts[1]
    assert not any(AUG.rewrites[0] in t for t in texts) and all("The answer is 1843." in t for t in texts)


def test_the_passage_and_its_rewrites_as_plain_text(generator):
    """The paper's Figure 3 ablation: the document alone, then with its rewrites, no QA pair."""
    def texts(*kinds):
        return decoded_sequences(generator, replace(DEFAULT_RECIPE, sequences=kinds))

    assert texts("document") == [generator.tokenizer.decode(generator.plain_sequence(DOC.passage).input_ids)]
    both = texts("document", "rewritten")
    assert len(both) == 2 and AUG.rewrites[0] in both[1] and not any("1843." in t and "answer" in t for t in both)
    assert len(texts("document", "rewritten", "alone")) == 3


THREE = replace(AUG, qa_pairs=(
    QAPair("When was Velmora founded?", "1843"),
    QAPair("Who founded Velmora?", "Aldric Fenn"),
    QAPair("What did Aldric Fenn found?", "Velmora"),
))


def test_the_authors_layout_is_five_sequences_without_an_end_token(generator):
    recipe = Settings(recipe=AUTHORS_RECIPE).recipe
    sequences = training_sequences(generator, DOC, THREE, recipe)
    texts = [generator.tokenizer.decode(s.input_ids) for s in sequences]
    assert len(texts) == 5
    # Pairs 1 and 2 with the passage and with the rewrite; pair 3 alone.
    assert [DOC.passage in t for t in texts] == [True, False, True, False, False]
    assert [THREE.rewrites[0] in t for t in texts] == [False, True, False, True, False]
    assert "Question: What did Aldric Fenn found?" in texts[4] and "Passage" not in texts[4]
    assert all(s.input_ids[-1] not in generator.stop_ids for s in sequences)
    assert all(all(s.in_loss) for s in sequences)  # loss on every token
    with_end = training_sequences(generator, DOC, THREE, replace(recipe, end_token=True))
    assert all(s.input_ids[-1] == generator.stop_ids[0] for s in with_end)


def test_chain_of_thought_training_is_in_the_answers_prompt(generator):
    recipe = Settings(recipe=AUTHORS_RECIPE, answer=AnswerConfig(prompt="cot", exemplars="hotpotqa")).recipe
    texts = decoded_sequences(generator, recipe, THREE)
    # The worked examples are the answers' own, and the target is the passage's sentence, then the answer.
    assert all("So the answer is the Danube." in t for t in texts)
    assert texts[0].endswith("Answer: Velmora was founded in 1843 by Aldric Fenn. So the answer is 1843.")
    assert texts[4].endswith("Answer: Velmora was founded in 1843 by Aldric Fenn. So the answer is Velmora.")
    unresolved = replace(AUTHORS_RECIPE)  # not through Settings: its prompt is unknown
    with pytest.raises(ValueError, match="answer prompt"):
        training_sequences(generator, DOC, THREE, unresolved)


def test_a_warm_up_writes_its_answers_alone_or_led_by_their_evidence(generator):
    recipe = Settings(recipe=AUTHORS_RECIPE, answer=AnswerConfig(prompt="cot", exemplars="hotpotqa")).recipe
    pairs = [QAPair("Who founded the town founded in 1843?", "Aldric Fenn")]
    evidence = ["Velmora was founded in 1843. Aldric Fenn founded Velmora."]

    def target(recipe) -> str:
        (sequence,) = warmup_sequences(generator, pairs, recipe, evidence)
        text = generator.tokenizer.decode(sequence.input_ids)
        assert "Passage" not in text.split("Question: Who founded")[1]  # the question alone
        return text[text.rindex("Answer:"):]

    assert target(recipe) == "Answer: So the answer is Aldric Fenn."
    chain = "Answer: Velmora was founded in 1843. Aldric Fenn founded Velmora. So the answer is Aldric Fenn."
    assert target(replace(recipe, warmup_target="evidence")) == chain
    short = Settings(recipe=replace(DEFAULT_RECIPE, warmup_target="evidence")).recipe
    (sequence,) = warmup_sequences(generator, pairs, short, evidence)
    assert generator.tokenizer.decode(sequence.input_ids).rstrip().endswith("The answer is Aldric Fenn.<|im_end|>")


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


DOCS = [
    (DOC, AUG),
    (
        Document("q", "Quillon Dynamics builds clockwork pumps in Tarsk. Its chief is Odile Varga.", "Quillon"),
        Augmentation(
            ("Odile Varga leads Quillon Dynamics, a pump maker in Tarsk.",),
            (QAPair("Who leads Quillon Dynamics?", "Odile Varga"), QAPair("Where is Quillon Dynamics?", "Tarsk")),
            1,
        ),
    ),
    (Document("b", "Tashkel Brevik designed the Velmora Clock Tower, which is 64 metres tall.", "Brevik"), Augmentation((), (), 3)),
    (
        Document("v", "Velmora lies on the Arn River and trades salt.", "Velmora river"),
        Augmentation(("Salt is traded in Velmora, a town on the Arn.",), (QAPair("Which river is Velmora on?", "the Arn River"),), 1),
    ),
]


def one_at_a_time(generator: Generator, recipe, start: LoRAAdapter, doc, aug) -> LoRAAdapter:
    """The plain reference: batch size 1, the model's own (full-vocabulary) loss, one AdamW per document."""
    sequences = training_sequences(generator, doc, aug, recipe)
    adapter = start.detached()
    params = [t.requires_grad_(True) for pair in adapter.factors.values() for t in pair]
    optimizer = torch.optim.AdamW(params, lr=recipe.learning_rate, weight_decay=recipe.weight_decay)
    for index in training_schedule(len(sequences), recipe):
        ids = torch.tensor([sequences[index].input_ids])
        labels = ids.masked_fill(~torch.tensor([sequences[index].in_loss]), -100)
        optimizer.zero_grad()
        with generator.plug.plugged(trainable_factors([adapter])):
            generator.model(input_ids=ids, labels=labels).loss.backward()
        optimizer.step()
    return adapter.detached()


def test_batched_encoding_equals_one_document_at_a_time(generator):
    """Four documents with 9, 6, 1 and 3 steps (so rows drop out of the batch while others train on),
    padded to each other's lengths, against the plain loop, at the default learning rate. Tolerance:
    2e-6 absolute on factors whose entries are of order 0.01-0.1 (measured: at most 3e-7) — float32
    summation order, nothing more. Adam divides by the gradient's own size, so where a gradient is near
    zero such noise is scaled up with the learning rate: at lr 1e-2 the same comparison differs by 1e-4."""
    recipe = replace(DEFAULT_RECIPE, epochs=2)
    encoder = Encoder(generator, recipe, limits=BatchLimits(max_documents=4, max_tokens=10**6))
    batched = dict(encoder.encode_many(DOCS))
    assert len(batched) == len(DOCS)
    for i, (doc, aug) in enumerate(DOCS):
        expected = one_at_a_time(generator, recipe, encoder.start, doc, aug)
        for name, (a, b) in expected.factors.items():
            got_a, got_b = batched[i].factors[name]
            assert torch.allclose(got_a, a, atol=2e-6, rtol=0), (doc.id, name, (got_a - a).abs().max())
            assert torch.allclose(got_b, b, atol=2e-6, rtol=0), (doc.id, name, (got_b - b).abs().max())
        assert any(not torch.equal(b, torch.zeros_like(b)) for _, b in batched[i].factors.values())


def test_documents_with_fewer_steps_stop_moving(generator):
    """A one-step document trained beside longer ones equals the same document trained alone."""
    recipe = replace(DEFAULT_RECIPE, epochs=1)
    encoder = Encoder(generator, recipe, limits=BatchLimits(max_documents=4, max_tokens=10**6))
    together = dict(encoder.encode_many(DOCS))[2]
    alone = encoder.encode(*DOCS[2])
    for name, (a, b) in alone.factors.items():
        assert torch.allclose(together.factors[name][1], b, atol=1e-6, rtol=0)
