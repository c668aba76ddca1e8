"""The facade: every mode answers, adapters stay in memory, bad input and stale state are clear errors."""

from __future__ import annotations

from dataclasses import replace

import pytest
import torch

from prag import Mode, Prag
from prag.config import Merge
from prag.errors import InputError, ModelError, NotBuiltError
from prag.text import stated_answer, states_answer

from .conftest import FAST


def test_every_mode_answers_with_retrieved_documents_and_timings(tiny):
    tiny.build()
    for mode in Mode:
        answer = tiny.ask("When was Velmora founded?", mode, top_k=2)
        assert answer.mode is mode
        if mode.active:
            assert set(answer.timings) == {"retrieve", "generate", "total"} and set(answer.documents) <= {"velmora", "quillon", "brevik"}
            continue
        assert len(answer.documents) == (0 if mode is Mode.CLOSED else 2)
        assert set(answer.timings) == {"retrieve", "load", "merge", "generate", "total"}
    assert tiny.ask("When was Velmora founded?", "rag").documents[0] == "velmora"


def test_adapters_are_cached_in_memory(tiny):
    tiny.build()
    tiny.ask("When was Velmora founded?", "prag")
    reads = tiny.engine.adapters.disk_reads
    tiny.ask("When was Velmora founded?", "prag")
    assert reads == 3 and tiny.engine.adapters.disk_reads == reads


def test_bad_questions_modes_and_models_are_refused(tiny):
    tiny.build()
    with pytest.raises(InputError, match="unknown mode"):
        tiny.ask("Where?", "telepathy")
    with pytest.raises(InputError, match="empty"):
        tiny.ask("   ", "rag")
    with pytest.raises(InputError, match="top_k"):
        tiny.ask("Where?", "rag", top_k=0)
    with pytest.raises(ModelError, match="unknown model"):
        Prag(model="no-such-model").ask("Where?", "closed")


def test_asking_before_a_build_or_after_new_documents_says_to_build(tiny, tmp_path):
    with pytest.raises(NotBuiltError, match="prag build"):
        tiny.ask("When was Velmora founded?", "rag")
    tiny.build()
    (tmp_path / "more.txt").write_text("The Kessel Highlands are cold.")
    stale = Prag(model=tiny.model_spec, settings=FAST)
    stale.add([tmp_path / "more.txt"])
    with pytest.raises(NotBuiltError, match="changed since its last build"):
        stale.ask("Where is it cold?", "rag")


def record_factors(tiny, monkeypatch) -> list:
    """The adapter factors every generation is handed, in call order (generation itself unchanged)."""
    seen = []
    generate = type(tiny.runtime.generator).generate

    def recording(self, prompts, max_new_tokens, factors=None, **kwargs):
        seen.append(factors)
        return generate(self, prompts, max_new_tokens, factors=factors, **kwargs)

    monkeypatch.setattr(type(tiny.runtime.generator), "generate", recording)
    return seen


def test_the_configured_merge_reaches_the_adapters_each_question_runs_with(tiny, monkeypatch):
    """The engine hands generation the retrieved adapters weighted as the merge says, per question."""
    tiny.build()
    seen = record_factors(tiny, monkeypatch)
    question = "When was Velmora founded?"
    tiny.ask(question, "prag", top_k=2)
    halved = Prag(model=tiny.model_spec, settings=replace(FAST, answer=replace(FAST.answer, merge=Merge("sum", 0.5))))
    halved.ask(question, "prag", top_k=2)
    scored = Prag(model=tiny.model_spec, settings=replace(FAST, answer=replace(FAST.answer, merge=Merge("score"))))
    scored.ask(question, "prag", top_k=2)
    (name, (down, up)), *_ = seen[0].items()
    torch.testing.assert_close(seen[1][name][0], down)  # the down factors are the adapters' own
    torch.testing.assert_close(seen[1][name][1], 0.5 * up)  # the up factors carry the weights
    hits = tiny.engine.retrieve_scored(question, 2)
    weights = Merge("score").weights([score for _, score in hits])
    rank = tiny.runtime.adapter_store.load(hits[0][0].content_hash).rank
    torch.testing.assert_close(seen[2][name][1][:, :rank], weights[0] * up[:, :rank])
    torch.testing.assert_close(seen[2][name][1][:, rank:], weights[1] * up[:, rank:])
    assert weights[0] > weights[1]  # the better match weighs more


def test_combine_takes_its_own_merge_and_p_rag_the_other(tiny, monkeypatch):
    tiny.build()
    seen = record_factors(tiny, monkeypatch)
    answer = replace(FAST.answer, merge=Merge("sum", 0.5), combine_merge=Merge("mean", 0.5))
    both = Prag(model=tiny.model_spec, settings=replace(FAST, answer=answer))
    question = "When was Velmora founded?"
    for p, mode in ((tiny, "prag"), (both, "prag"), (both, "combine"), (both, "auto")):
        p.ask(question, mode, top_k=2)
    (name, (_, up)), *_ = seen[0].items()
    torch.testing.assert_close(seen[1][name][1], 0.5 * up)  # P-RAG: the sum halved
    torch.testing.assert_close(seen[2][name][1], 0.25 * up)  # Combine: half the mean of two
    torch.testing.assert_close(seen[3][name][1], 0.5 * up)  # auto merges as P-RAG does


def test_a_shared_merge_takes_away_the_collections_shared_part(tiny, monkeypatch):
    """`+shared:0` estimates the shared part from every encoded document and subtracts Σw copies of it."""
    centred = Prag(model=tiny.model_spec, settings=replace(FAST, answer=replace(FAST.answer, merge=Merge("mean", shared=0))))
    centred.build(encode=False)
    with pytest.raises(NotBuiltError, match="none is encoded"):
        centred.engine.shared_component()
    centred.build()
    seen = record_factors(centred, monkeypatch)
    centred.ask("When was Velmora founded?", "prag", top_k=2)
    shared = centred.engine.shared_component()
    assert shared.adapters == 3 and shared.adapter.rank == 6  # three rank-2 adapters: their mean, whole
    (name, (_, up)), *_ = seen[0].items()
    rank = centred.runtime.adapter_store.load(centred.documents()[0].content_hash).rank
    expected = -(shared.adapter.scaling * shared.adapter.factors[name][1]).T  # Σw = 1 copy taken away
    torch.testing.assert_close(up[0, 2 * rank:], expected)


def test_an_unstated_chain_of_thought_is_led_on_to_its_answer_with_the_same_adapters(tiny, monkeypatch):
    """`elicit`: a chain of thought that stopped without "So the answer is" (the tiny model never writes it)
    goes on from those words in one more generation, handed the adapters it was answered with."""
    tiny.build()
    cot = replace(FAST.answer, prompt="cot", cot_max_new_tokens=6)
    plain = Prag(model=tiny.model_spec, settings=replace(FAST, answer=cot))
    elicited = Prag(model=tiny.model_spec, settings=replace(FAST, answer=replace(cot, elicit=True)))
    seen = record_factors(tiny, monkeypatch)
    for mode in ("rag", "prag", "flare"):
        before = plain.ask("When was Velmora founded?", mode, top_k=2)
        seen.clear()
        after = elicited.ask("When was Velmora founded?", mode, top_k=2)
        assert not states_answer(before.raw)
        assert after.raw.startswith(f"{before.raw.rstrip()} So the answer is") and after.text == stated_answer(after.raw)
        if mode == "prag":
            assert len(seen) == 2  # the answer, then the lead on to it
            first, second = seen
            assert first and first.keys() == second.keys() and all(torch.equal(first[n][1], second[n][1]) for n in first)
    stated = Prag(model=tiny.model_spec, settings=replace(FAST, answer=replace(FAST.answer, elicit=True)))
    assert "answer is" not in stated.ask("When was Velmora founded?", "rag").raw.lower()  # a short answer is left alone


def test_an_answer_stated_at_once_is_generated_after_the_lead_with_the_questions_adapters(tiny, monkeypatch):
    """`at_once`: the chain-of-thought prompt's assistant turn begins "Answer: So the answer is", so the answer
    is the words that follow, generated in one pass with the question's own adapters; FLARE keeps reasoning."""
    tiny.build()
    at_once = Prag(model=tiny.model_spec, settings=replace(FAST, answer=replace(FAST.answer, prompt="cot", at_once=True, max_new_tokens=4)))
    seen, prompts = record_factors(tiny, monkeypatch), []
    recording = type(tiny.runtime.generator).generate
    monkeypatch.setattr(type(tiny.runtime.generator), "generate", lambda self, texts, *a, **k: prompts.extend(texts) or recording(self, texts, *a, **k))
    for mode in ("closed", "rag", "prag"):
        prompts.clear()
        answer = at_once.ask("When was Velmora founded?", mode, top_k=2)
        assert len(prompts) == 1 and prompts[0].endswith("Answer: So the answer is")
        assert answer.raw.startswith(" So the answer is") and answer.text == stated_answer(answer.raw)
    assert [bool(factors) for factors in seen] == [False, False, True]  # P-RAG's answer carried its adapters
    prompts.clear()
    flare = at_once.ask("When was Velmora founded?", "flare", top_k=2)
    assert prompts and not prompts[0].endswith("So the answer is") and not flare.raw.startswith(" So the answer is")


def test_a_merge_that_counts_a_warm_up_once_needs_a_warm_up(tiny):
    tiny.build()
    once = Prag(model=tiny.model_spec, settings=replace(FAST, answer=replace(FAST.answer, merge=Merge("sum", start_once=True))))
    with pytest.raises(InputError, match="--init warmup"):
        once.ask("When was Velmora founded?", "prag")


def test_questions_that_are_not_text_are_refused(tiny):
    tiny.build()
    with pytest.raises(InputError, match="lone surrogate"):
        tiny.ask("Why \udcff?", "closed")  # what a command line makes of an undecodable byte


def test_answers_count_what_they_retrieved_and_status_shows_the_encoded_share(tiny):
    tiny.build(augment=False, encode=False)
    tiny.ask("When was Velmora founded?", "rag", top_k=1)
    tiny.ask_many(["Who founded Velmora?", "Who leads Quillon Dynamics?"], "rag", top_k=1)
    counts = tiny.builder.demand.totals(tiny.collection)
    assert sum(counts.values()) == 3 and counts.get("velmora", 0) >= 1
    assert tiny.status().recent_coverage == 0.0  # nothing encoded yet
    tiny.build(only=["velmora"])
    status = tiny.status()
    assert (status.recent_retrievals, status.recent_encoded) == (3, counts.get("velmora", 0))
    # Retrievals older than the recent window count for the budget, not for the status.
    tiny.catalog.db.execute("INSERT INTO demand VALUES (?, 'quillon', date('now', '-30 days'), 50)", (tiny.collection,))
    assert tiny.status().recent_retrievals == 3 and tiny.builder.demand.totals(tiny.collection)["quillon"] >= 50


def test_prompts_without_passages_share_larger_generations(tiny):
    tiny.build()
    tiny.settings = replace(tiny.settings, answer=replace(tiny.settings.answer, batch_size=1, short_batch_size=2))
    questions = ["When was Velmora founded?", "Who leads Quillon Dynamics?", "How tall is the clock tower?"]
    sizes = {mode: [a.batch_size for a in tiny.ask_many(questions, mode)] for mode in (Mode.CLOSED, Mode.PRAG, Mode.RAG, Mode.COMBINE)}
    assert sizes == {Mode.CLOSED: [2, 2, 1], Mode.PRAG: [2, 2, 1], Mode.RAG: [1, 1, 1], Mode.COMBINE: [1, 1, 1]}
