"""Recipe.fingerprint: every field but the display name changes it (two recipes that train alike share
adapters, any that train differently do not); invalid recipes are refused at construction."""

from __future__ import annotations

from dataclasses import fields, replace

import pytest

from prag.config import (
    ANSWER_FORMAT_RECIPE, AUTHORS_RECIPE, DEFAULT_RECIPE, PAPER_RECIPE, RECIPES, AnswerConfig, AugmentConfig, Merge, Recipe,
    Settings, combine_merge_for, merge_for, parse_recipe, recipe_for,
)
from prag.errors import InputError

WARM = dict(init="warmup", warmup="0123456789abcdef")

CHANGES = {
    "rank": dict(rank=4),
    "alpha": dict(alpha=16.0),
    "dropout": dict(dropout=0.1),
    "target_modules": dict(target_modules=("gate_proj", "up_proj")),
    "learning_rate": dict(learning_rate=3e-4),
    "weight_decay": dict(weight_decay=0.0),
    "epochs": dict(epochs=1),
    "sequences": dict(sequences=("passage", "rewrite", "alone", "document")),
    "loss_on": dict(loss_on="all"),
    "seed": dict(seed=1),
    "init": WARM,
    "precision": dict(precision="bf16"),
    "layout": dict(layout="authors"),
    "end_token": dict(end_token=False),
    "prompt": dict(prompt="answer"),
    "warmup_target": dict(warmup_target="evidence"),
}
"""One valid change per field, from DEFAULT_RECIPE (`warmup` is checked from a warm-started recipe: it can
only be set together with init="warmup")."""


def test_every_field_is_covered():
    assert set(CHANGES) | {"name", "warmup", "answer_prompt"} == {f.name for f in fields(Recipe)}


@pytest.mark.parametrize("field", sorted(CHANGES))
def test_changing_a_field_changes_the_fingerprint(field):
    changed = replace(DEFAULT_RECIPE, **CHANGES[field])
    assert changed.fingerprint() != DEFAULT_RECIPE.fingerprint()


def test_changing_the_warmup_digest_changes_the_fingerprint():
    warm = replace(DEFAULT_RECIPE, **WARM)
    other = replace(warm, warmup="fedcba9876543210")
    assert warm.fingerprint() != other.fingerprint() != DEFAULT_RECIPE.fingerprint()


def test_every_change_gives_its_own_fingerprint():
    prints = {replace(DEFAULT_RECIPE, **change).fingerprint() for change in CHANGES.values()}
    assert len(prints) == len(CHANGES) and DEFAULT_RECIPE.fingerprint() not in prints


def test_the_name_does_not_change_the_fingerprint():
    assert replace(DEFAULT_RECIPE, name="renamed").fingerprint() == DEFAULT_RECIPE.fingerprint()
    assert Recipe(name="a", rank=4).fingerprint() == Recipe(name="b", rank=4).fingerprint()
    # The paper recipe is its changes to the default, whatever it is called.
    alike = replace(DEFAULT_RECIPE, name="mine", learning_rate=3e-4, epochs=1, loss_on="all", sequences=("passage", "rewrite", "alone"))
    assert alike.fingerprint() == PAPER_RECIPE.fingerprint()


def test_the_fingerprint_is_stable():
    assert Recipe().fingerprint() == Recipe().fingerprint() != DEFAULT_RECIPE.fingerprint()
    assert Recipe(sequences=("passage", "alone")).fingerprint() == DEFAULT_RECIPE.fingerprint()
    assert len(DEFAULT_RECIPE.fingerprint()) == 16 and int(DEFAULT_RECIPE.fingerprint(), 16) >= 0


def test_fields_added_later_keep_stored_adapters_keys():
    # The keys adapters were stored under before layout, end_token and prompt existed (the default
    # recipe was then 3 epochs at lr 1e-3).
    assert Recipe(epochs=3, learning_rate=1e-3).fingerprint() == "655970e6dc7df06a"
    assert PAPER_RECIPE.fingerprint() == "d0aabe44e1fb1b4a"
    assert "layout" not in DEFAULT_RECIPE.described() and "layout" in AUTHORS_RECIPE.described()


def test_a_recipe_trained_in_the_answer_prompt_follows_the_settings_answers():
    short = Settings(recipe=AUTHORS_RECIPE).recipe
    hotpot = Settings(recipe=AUTHORS_RECIPE, answer=AnswerConfig(prompt="cot", exemplars="hotpotqa")).recipe
    wiki = replace(Settings(recipe=AUTHORS_RECIPE), answer=AnswerConfig(prompt="cot", exemplars="2wikimultihopqa")).recipe
    assert (short.answer_prompt, hotpot.answer_prompt, wiki.answer_prompt) == ("short", "cot:hotpotqa", "cot:2wikimultihopqa")
    assert len({short.fingerprint(), hotpot.fingerprint(), wiki.fingerprint()}) == 3
    # A recipe trained in the short prompt ignores the answers' prompt.
    assert Settings(recipe=PAPER_RECIPE, answer=AnswerConfig(prompt="cot")).recipe == PAPER_RECIPE


def test_the_named_recipes_differ():
    assert list(RECIPES) == ["paper", "default", "authors", "answer-format"]
    assert len({r.fingerprint() for r in RECIPES.values()}) == 4
    # answer-format is the authors' recipe with the loss on the content, as the dev sweep measured it.
    assert ANSWER_FORMAT_RECIPE.fingerprint() == replace(AUTHORS_RECIPE, loss_on="content").fingerprint()


def test_each_bundled_model_has_its_own_recipe_and_merge():
    assert recipe_for("qwen-coder-0.5b") == ANSWER_FORMAT_RECIPE and merge_for("qwen-coder-0.5b") == Merge("mean", 0.5)
    assert combine_merge_for("qwen-coder-0.5b") is None  # Combine merges as P-RAG does
    assert recipe_for("default") == DEFAULT_RECIPE and merge_for("default") == Merge("score", 0.5)
    assert combine_merge_for("default") == Merge("mean", 0.5)
    assert recipe_for("/models/any-folder") == DEFAULT_RECIPE and merge_for("/models/any-folder") == Merge("sum")
    assert combine_merge_for("/models/any-folder") is None
    qwen = Settings.for_model("qwen-coder-0.5b")
    assert qwen.recipe.name == "answer-format" and qwen.answer.merge_label == "mean×0.5"
    smol = Settings.for_model("default")
    assert smol.recipe == Settings().recipe and smol.answer.merge_label == "score×0.5, combine mean×0.5"
    assert smol.answer.merge_of(combine=True) == Merge("mean", 0.5) and smol.answer.merge_of(combine=False) == Merge("score", 0.5)


@pytest.mark.parametrize("bad, message", [
    (dict(rank=0), "rank"),
    (dict(epochs=0), "epochs"),
    (dict(sequences=()), "sequences"),
    (dict(sequences=("passage", "poem")), "sequences"),
    (dict(loss_on="everything"), "loss_on"),
    (dict(init="zeros"), "init"),
    (dict(init="warmup"), "warmup"),
    (dict(warmup="0123456789abcdef"), "warmup"),
    (dict(precision="fp16"), "precision"),
    (dict(layout="random"), "layout"),
    (dict(prompt="cot"), "prompt"),
    (dict(answer_prompt="short"), "answer_prompt"),
])
def test_invalid_recipes_are_refused(bad, message):
    with pytest.raises(ValueError, match=message):
        Recipe(**bad)
    with pytest.raises(ValueError, match=message):
        replace(DEFAULT_RECIPE, **bad)


@pytest.mark.parametrize("field_name", ["top_k", "batch_size", "short_batch_size", "max_new_tokens", "cot_max_new_tokens", "max_rounds"])
def test_answer_counts_below_one_are_refused(field_name):
    with pytest.raises(ValueError, match=f"{field_name} must be at least 1"):
        AnswerConfig(**{field_name: 0})
    assert getattr(AnswerConfig(**{field_name: 1}), field_name) == 1


def test_the_answering_label_names_the_prompt_its_options_and_the_retrieval():
    assert AnswerConfig().label == "prompt short · BM25 top-3"
    assert AnswerConfig(prompt="cot", at_once=True, retrieval="links", top_k=4).label == "prompt cot (stated at once) · BM25 + title links top-4"
    assert AnswerConfig(prompt="cot", elicit=True).label == "prompt cot (elicited) · BM25 top-3"
    assert AnswerConfig(at_once=True).label == AnswerConfig().label  # the short prompt states its answer at once anyway


def test_scaling_is_alpha_over_rank():
    assert DEFAULT_RECIPE.scaling == 16.0
    assert Recipe(rank=4, alpha=8.0).scaling == 2.0


def test_augment_fingerprint_covers_every_field():
    base = AugmentConfig()
    changed = {"model": "another-model", "questions": "sentence"}  # the fields that are not numbers
    for f in fields(AugmentConfig):
        value = getattr(base, f.name)
        other = changed.get(f.name) or (value + 1 if isinstance(value, int) else value + 0.1)
        assert replace(base, **{f.name: other}).fingerprint() != base.fingerprint(), f.name


def test_fields_added_later_leave_stored_fingerprints_alone():
    assert AugmentConfig().fingerprint() == "294c476894b1dcb2"  # the key of every augmentation stored before them


def test_an_unknown_question_style_is_refused():
    with pytest.raises(ValueError, match="questions must be one of"):
        AugmentConfig(questions="paragraph")


def test_a_recipe_spelling_changes_the_named_fields_only():
    recipe = parse_recipe("default@epochs=1@learning_rate=3e-3@sequences=passage+rewrite@end_token=false")
    assert recipe == replace(
        DEFAULT_RECIPE, name="default@epochs=1@learning_rate=3e-3@sequences=passage+rewrite@end_token=false",
        epochs=1, learning_rate=3e-3, sequences=("passage", "rewrite"), end_token=False,
    )
    assert parse_recipe("authors") == AUTHORS_RECIPE
    assert parse_recipe("default@epochs=1").fingerprint() != DEFAULT_RECIPE.fingerprint()


@pytest.mark.parametrize("spelling, message", [
    ("fast", "unknown recipe 'fast'"),
    ("default@depth=2", "no field 'depth'"),
    ("default@epochs=two", "expected int"),
    ("default@end_token=maybe", "expected bool"),
    ("default@loss_on=everything", "loss_on"),
    ("default@epochs=0", "epochs"),
])
def test_a_bad_recipe_spelling_is_refused_with_what_is_wrong(spelling, message):
    with pytest.raises(InputError, match=message):
        parse_recipe(spelling)
