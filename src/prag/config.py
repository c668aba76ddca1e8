"""Plain, frozen configuration objects. Everything that changes a stored artefact is hashed from here."""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import asdict, dataclass, field, fields, replace

from prag.errors import InputError

SEQUENCE_KINDS = ("passage", "rewrite", "alone", "document", "rewritten")
LOSS_KINDS = ("all", "answer", "content")
INIT_KINDS = ("random", "warmup")
PRECISIONS = ("fp32", "bf16")
PROMPTS = ("short", "cot")
RETRIEVAL_LABELS = {"bm25": "BM25", "links": "BM25 + title links"}
RETRIEVALS = tuple(RETRIEVAL_LABELS)
"""`bm25`: the top-k by BM25 on the question (the paper's); `links`: BM25's upper half, then documents its
passages name by title (`prag.retrieve.links`), which reach a multi-hop question's second hop."""
LAYOUTS = ("every", "authors")
TRAINING_PROMPTS = ("short", "answer")
WARMUP_TARGETS = ("answer", "evidence")


@dataclass(frozen=True)
class Recipe:
    """How one document becomes one LoRA adapter (the paper's parametric document encoding)."""

    name: str = "default"
    rank: int = 2
    """LoRA rank r of every adapted projection."""
    alpha: float = 32.0
    """LoRA alpha; the update is scaled by alpha / rank as in peft."""
    dropout: float = 0.0
    target_modules: tuple[str, ...] = ("gate_proj", "up_proj", "down_proj")
    """The FFN projections that carry the document."""
    learning_rate: float = 1.5e-3
    weight_decay: float = 0.01
    """AdamW's; 0.01 is torch's default, which the reference code keeps."""
    epochs: int = 2
    sequences: tuple[str, ...] = ("passage", "rewrite", "alone")
    """Training sequences per QA pair: with the passage, with the rewrite, alone (the paper's three; SmolLM2's
    default keeps the passage and alone).
    `document` adds the raw passage once per epoch as plain language-model text, `rewritten` each rewrite
    (the paper's Figure 3 ablation: `document` alone, then `document+rewritten`, then with QA pairs)."""
    loss_on: str = "content"
    """`all` tokens (the paper), only the `answer` turn, or the `content`: passage and answer tokens,
    without the chat template, instruction and question that every document shares."""
    seed: int = 0
    """Seeds the shared initialisation and the order of training sequences."""
    init: str = "random"
    """`random`: peft's default initialisation from `seed`; `warmup`: start from a pre-trained LoRA."""
    warmup: str = ""
    """With `init="warmup"`: the digest of the warm-up LoRA every document adapter starts from."""
    precision: str = "fp32"
    """Arithmetic of the frozen model during training. `bf16` halves memory traffic and uses the CPU's
    bf16 dot products; the adapter itself and its optimiser state stay fp32 either way."""
    layout: str = "every"
    """`every`: each kind in `sequences` for every QA pair (the paper's text). `authors`: as the authors'
    code does, the first ceil(n/2) pairs in context (with the passage, with each rewrite), the rest alone:
    5 sequences for 3 pairs instead of 9."""
    end_token: bool = True
    """Close each training answer with the end-of-turn token (the authors' code does not)."""
    prompt: str = "short"
    """The prompt training sequences are written in. `short`: the paper's direct answer ("The answer is
    …"). `answer`: the prompt the answers are asked in (`answer_prompt`), so an adapter trained for
    chain-of-thought answers does not pull the model towards short ones; its target is the passage's
    sentence holding the answer, then "So the answer is …", the format of the worked examples."""
    answer_prompt: str = ""
    """With prompt="answer": `short` or `cot:<exemplars>`, filled in by `Settings` from its AnswerConfig."""
    warmup_target: str = "answer"
    """What the warm-up LoRA learns to write after each of its questions, in a chain-of-thought prompt:
    `answer`, "So the answer is ⟨gold⟩" (the paper's sampled QA pairs); `evidence`, the dataset's
    supporting sentences then that line, a reasoning chain made of the gold facts, as the authors' warm-up
    data is (theirs written by a larger model given those facts). A short prompt's target is the answer."""

    def __post_init__(self) -> None:
        if self.rank < 1:
            raise ValueError(f"rank must be >= 1, got {self.rank}")
        if self.epochs < 1:
            raise ValueError(f"epochs must be >= 1, got {self.epochs}")
        unknown = set(self.sequences) - set(SEQUENCE_KINDS)
        if unknown or not self.sequences:
            raise ValueError(f"sequences must be a non-empty subset of {SEQUENCE_KINDS}, got {self.sequences}")
        if self.loss_on not in LOSS_KINDS:
            raise ValueError(f"loss_on must be one of {LOSS_KINDS}, got {self.loss_on!r}")
        if self.init not in INIT_KINDS:
            raise ValueError(f"init must be one of {INIT_KINDS}, got {self.init!r}")
        if (self.init == "warmup") != bool(self.warmup):
            raise ValueError("init='warmup' needs the warm-up LoRA's digest in `warmup`, and only it does")
        if self.precision not in PRECISIONS:
            raise ValueError(f"precision must be one of {PRECISIONS}, got {self.precision!r}")
        if self.layout not in LAYOUTS:
            raise ValueError(f"layout must be one of {LAYOUTS}, got {self.layout!r}")
        if self.prompt not in TRAINING_PROMPTS:
            raise ValueError(f"prompt must be one of {TRAINING_PROMPTS}, got {self.prompt!r}")
        if self.warmup_target not in WARMUP_TARGETS:
            raise ValueError(f"warmup_target must be one of {WARMUP_TARGETS}, got {self.warmup_target!r}")
        if self.answer_prompt and self.prompt != "answer":
            raise ValueError("answer_prompt is only set for recipes trained in the answer prompt (prompt='answer')")

    @property
    def scaling(self) -> float:
        return self.alpha / self.rank

    def in_prompt_of(self, answer: "AnswerConfig") -> "Recipe":
        """This recipe with the answer prompt it trains in filled in (unchanged when it trains `short`)."""
        return replace(self, answer_prompt=answer.prompt_name) if self.prompt == "answer" else self

    def described(self) -> dict:
        """Every field, except those added after adapters were first stored while they keep their
        defaults: the adapters and run folders already written keep their keys."""
        return described_without(self, _LATER_FIELDS)

    def fingerprint(self) -> str:
        """Hash of every field but the display name: two recipes that train alike share adapters."""
        fields = self.described()
        fields.pop("name")
        return _digest(fields)


_LATER_FIELDS = {"layout": "every", "end_token": True, "prompt": "short", "answer_prompt": "", "warmup_target": "answer"}


def described_without(config: object, later_fields: dict) -> dict:
    """A config's fields, without those added after its fingerprints were first stored while they keep
    their defaults (`later_fields`: name -> that default), so that what was stored keeps its key."""
    return {k: v for k, v in asdict(config).items() if later_fields.get(k, object()) != v}


PAPER_RECIPE = Recipe(name="paper", learning_rate=3e-4, epochs=1, loss_on="all")
"""Su et al. 2025: rank 2, alpha 32, AdamW lr 3e-4, one epoch, loss on all tokens."""

DEFAULT_RECIPE = Recipe(name="default", sequences=("passage", "alone"))
"""SmolLM2's recipe, chosen on its demo corpus: loss on passage and answer tokens (bench/recipe_experiment.py,
where the paper's recipe injected no fact into SmolLM2-135M: P-RAG EM 0.0 vs 16.7), then 2 epochs at lr 1.5e-3
instead of 3 at 1e-3 (bench/demo_merge.py --recipe): 0.70x the encoding time with the demo's targets kept
(P-RAG 27.1 EM against 31.2, Combine 58.3 against 62.5, RAG 27.1); two epochs at 1e-3 missed P-RAG's by a question.
Then each QA pair with the passage and alone, not also with the rewrite: 0.56x the encoding time again, P-RAG
27.1 EM as with the rewrite and Combine 62.5 (58.3 with it); the passage as plain text with the pairs alone
(`alone+document`) lost P-RAG (12.5). The rewrites are still written: they ground QA pairs and serve DA-RAG."""

AUTHORS_RECIPE = Recipe(
    name="authors", learning_rate=3e-4, epochs=1, loss_on="all", layout="authors", end_token=False, prompt="answer"
)
"""The authors' code (oneal2000/PRAG): 5 sequences per document, one epoch, lr 3e-4, loss on every token,
no end-of-turn token, and for multi-hop datasets the chain-of-thought prompt (`--with_cot`). Where it
differs: the authors' target sentence is written by the model during augmentation; here it is the
passage's own sentence holding the answer."""

ANSWER_FORMAT_RECIPE = replace(AUTHORS_RECIPE, name="answer-format", loss_on="content")
"""The authors' recipe with the loss on the passage and answer tokens only: trained in the answers' own
prompt, without training the instruction, worked examples and chat template every document shares (which
three summed adapters over-predict). Chosen for Qwen2.5-Coder-0.5B on HotpotQA's dev questions."""

RECIPES = {r.name: r for r in (PAPER_RECIPE, DEFAULT_RECIPE, AUTHORS_RECIPE, ANSWER_FORMAT_RECIPE)}


def parse_recipe(text: str) -> Recipe:
    """`NAME[@FIELD=VALUE…]`: a named recipe with fields changed, e.g. `default@epochs=1@learning_rate=3e-3`
    (a tuple field takes `+`-joined parts, a boolean true/false). Changed fields change the adapters' key;
    the recipe is named by its spelling, so `prag status` and stored metadata say what was changed."""
    name, *overrides = text.strip().split("@")
    if name not in RECIPES:
        raise InputError(f"unknown recipe {name!r}; choose one of {', '.join(RECIPES)}")
    recipe = RECIPES[name]
    for override in overrides:
        key, _, value = override.partition("=")
        try:
            recipe = replace(recipe, **{key: _field_value(recipe, key, value)})
        except ValueError as e:  # the recipe's own check of the new value
            raise InputError(f"recipe {text!r}: {e}") from None
    return replace(recipe, name=text.strip()) if overrides else recipe


def _field_value(recipe: Recipe, key: str, text: str) -> object:
    if key not in {f.name for f in fields(Recipe)}:
        raise InputError(f"a recipe has no field {key!r}")
    current = getattr(recipe, key)
    try:
        if isinstance(current, bool):
            return {"true": True, "false": False}[text.lower()]
        if isinstance(current, tuple):
            return tuple(text.split("+"))
        return type(current)(text)
    except (KeyError, ValueError):
        raise InputError(f"recipe field {key}={text!r}: expected {type(current).__name__}") from None


@dataclass(frozen=True)
class ModelDefaults:
    """What a model encodes and answers with unless other settings are asked for."""

    recipe: str
    merge: str
    """`parse_merge` spelling: P-RAG's and `auto`'s merge, and Combine's unless `combine_merge` is given."""
    combine_merge: str | None = None


MODEL_DEFAULTS = {
    "default": ModelDefaults(DEFAULT_RECIPE.name, "score:0.5", "mean:0.5"),
    "qwen-coder-0.5b": ModelDefaults(ANSWER_FORMAT_RECIPE.name, "mean:0.5"),
}
"""SmolLM2-135M (`default`): the recipe its demo chose (bench/recipe_experiment.py) and the merges its demo
chose (bench/demo_merge.py: for P-RAG half the paper's sum, shared out by BM25 score so the best-matching
document's adapter weighs most; for Combine a sixth of it each, since its passages carry the facts while
the adapters nudge). Qwen2.5-Coder-0.5B: the recipe picked on HotpotQA's dev
questions 100-129; the mean halved (each of three adapters at 1/6) on the dev questions 100-149 of HotpotQA
and 2Wiki, where it scored above the plain mean for Combine on both and for P-RAG on average
(bench/quality_sweep.py). The tables are in bench/RESULTS.md."""

OTHER_MODELS_DEFAULTS = ModelDefaults(DEFAULT_RECIPE.name, "sum")
"""Any other model: the default recipe and the paper's plain sum."""


def model_defaults(model: str) -> ModelDefaults:
    return MODEL_DEFAULTS.get(model, OTHER_MODELS_DEFAULTS)


def recipe_for(model: str) -> Recipe:
    """The recipe `model` (a bundled model's name or a folder) encodes with by default."""
    return RECIPES[model_defaults(model).recipe]


def merge_for(model: str) -> "Merge":
    """How `model` combines retrieved adapters by default."""
    return parse_merge(model_defaults(model).merge)


def combine_merge_for(model: str) -> "Merge | None":
    """How `model` combines Combine's adapters by default, when that differs from `merge_for`."""
    spec = model_defaults(model).combine_merge
    return parse_merge(spec) if spec is not None else None


QUESTION_STYLES = ("example", "sentence")


@dataclass(frozen=True)
class AugmentConfig:
    """The paper's document augmentation: n rewrites and m question-answer pairs per document."""

    rewrites: int = 1
    qa_pairs: int = 3
    max_attempts: int = 3
    """Bounded retries for QA generation; the first is greedy, later ones sample."""
    temperature: float = 0.7
    rewrite_tokens: int = 160
    qa_tokens_per_pair: int = 32
    seed: int = 0
    batch_size: int = 32
    """Documents generated for together. Greedy outputs do not depend on it (bench/augment.py checks);
    sampled retries draw their random numbers per batch, so it is part of the fingerprint."""
    model: str | None = None
    """The model that writes the augmentations (the paper's Table 3: another model than the one that
    answers and is encoded); None: the answering model itself."""
    questions: str = "example"
    """How QA pairs are asked for. `example`: one prompt per document with a worked example, `qa_pairs`
    pairs from its continuation. `sentence`: one prompt per sentence of the passage, asking for a question
    that sentence answers, with no example; the first `qa_pairs` valid pairs in sentence order are kept.
    Qwen2.5-Coder-0.5B copies the worked example's questions onto every passage ("Who designed the Arn
    River?"), so its pairs cover few of a passage's facts."""

    def __post_init__(self) -> None:
        if self.questions not in QUESTION_STYLES:
            raise ValueError(f"questions must be one of {QUESTION_STYLES}, got {self.questions!r}")

    def fingerprint(self) -> str:
        return _digest(described_without(self, {"model": None, "questions": "example"}))


MERGE_WEIGHTINGS = ("sum", "mean", "score")


@dataclass(frozen=True)
class Merge:
    """How the retrieved documents' adapters are combined: ΔW = Σ_j w_j·ΔW_j − c·ΔW_start (see `lora.merge`),
    or − c·ΔW_shared, the component every document's adapter shares."""

    weighting: str = "sum"
    """`sum`: w_j = α (the paper: α = 1, peft's `cat`); `mean`: w_j = α/k; `score`: w_j = α·k·σ_j/Σσ with σ the
    retrieval scores, so the weights keep the plain sum's total and lean towards the better matches."""
    alpha: float = 1.0
    start_once: bool = False
    """Count the start every document adapter trained from (a warm-up LoRA) once, not k times: each
    ΔW_j carries it, so Σ_j w_j ΔW_j holds it Σ_j w_j times; (Σ_j w_j − 1) copies are taken away."""
    shared: float | None = None
    """How many copies of the component every document's adapter shares the merged update keeps: each ΔW_j
    holds it (the answer format, the prompt every sequence trained in), so the weighted sum holds it Σ_j w_j
    times; (Σ_j w_j − shared) copies are taken away. 0 keeps only what is the documents' own, 1 counts the
    shared part once; None leaves the sum as it is. It is estimated from the collection's adapters
    (`lora.merge.shared_component`), so it needs no warm-up and no training."""

    def __post_init__(self) -> None:
        if self.weighting not in MERGE_WEIGHTINGS:
            raise ValueError(f"merge weighting must be one of {MERGE_WEIGHTINGS}, got {self.weighting!r}")
        if not (self.alpha > 0 and math.isfinite(self.alpha)):
            raise ValueError(f"merge alpha must be a positive number, got {self.alpha}")
        if self.shared is not None and not (self.shared >= 0 and math.isfinite(self.shared)):
            raise ValueError(f"the shared copies kept must be a number from 0 up, got {self.shared}")
        if self.shared is not None and self.start_once:
            raise ValueError("+start-once and +shared both take away a common part; choose one")

    @property
    def label(self) -> str:
        """`sum` (the paper's), `mean`, `score`, with `×α` when α ≠ 1, `+start-once`, `+shared:C`: what reports print."""
        alpha = "" if self.alpha == 1 else f"×{self.alpha:g}"
        shared = "" if self.shared is None else f"+shared:{self.shared:g}"
        return f"{self.weighting}{alpha}{'+start-once' if self.start_once else ''}{shared}"

    def weights(self, scores: list[float]) -> list[float]:
        """w_j for k retrieved documents with retrieval scores σ_j (rank order)."""
        k = len(scores)
        if self.weighting == "mean":
            return [self.alpha / k] * k
        total = sum(scores)
        if self.weighting == "score" and total > 0:
            return [self.alpha * k * s / total for s in scores]
        return [self.alpha] * k  # `sum`, and `score` when nothing matched (every σ is 0)


PAPER_MERGE = Merge()
"""Su et al. 2025: ΔW_merge = Σ_j ΔW_j."""


def parse_merge(text: str, option: str = "--merge") -> Merge:
    """`sum`, `mean`, `score`, optionally `:ALPHA`, `+start-once` and `+shared:C`, e.g. `sum:0.5`,
    `score+start-once`, `score:0.17+shared:0`."""
    spec, *options = text.strip().split("+")
    weighting, _, alpha = spec.partition(":")
    start_once, shared = False, None
    try:
        for option_text in options:
            name, _, value = option_text.partition(":")
            if option_text == "start-once":
                start_once = True
            elif name == "shared" and value:
                shared = float(value)
            else:
                raise ValueError(f"unknown option {'+' + option_text!r}; choose +start-once or +shared:C (C copies of the shared part kept)")
        return Merge(weighting, float(alpha) if alpha else 1.0, start_once, shared)
    except ValueError as e:
        raise InputError(f"{option} {text!r}: {e}") from None


def answering_label(prompt: str, elicit: bool, at_once: bool, retrieval: str, top_k: int) -> str:
    """`prompt cot (elicited) · BM25 + title links top-4`: what reports and `prag status` print."""
    options = [name for name, used in (("elicited", elicit), ("stated at once", at_once)) if used]
    shown = f" ({', '.join(options)})" if options else ""
    return f"prompt {prompt}{shown} · {RETRIEVAL_LABELS[retrieval]} top-{top_k}"


@dataclass(frozen=True)
class AnswerConfig:
    """Online inference: Retrieve, Update, Generate."""

    top_k: int = 3
    retrieval: str = "bm25"
    """One of RETRIEVALS: how every retrieval finds its top-k, the question's and FLARE's and DRAGIN's own
    queries alike."""
    max_new_tokens: int = 24
    adapter_cache_bytes: int = 512 * 2**20
    """Bound on adapters kept in memory; a cached adapter is never read from disk again."""
    batch_size: int = 8
    """Questions answered together in one generation when many are asked at once."""
    short_batch_size: int = 24
    """The same in modes whose prompts never hold passages (closed-book, P-RAG, `Prag.ask_many`): a decoding
    step costs little more for 24 short rows than for 8, while long prompts prefill no faster in larger
    batches (the demo's 48 questions: closed-book 31.5 s -> 16.5 s, P-RAG 22.1 -> 16.6; RAG and Combine kept
    at 8, where 24 gave 66.5 s against 74.3 and 75.9 against 62.8)."""
    prompt: str = "short"
    """`short`: the paper's direct answer ("The answer is …"); `cot`: reasoning step by step after worked
    examples, as the paper prompts for multi-hop datasets."""
    exemplars: str = "hotpotqa"
    """Which worked examples a `cot` prompt shows: hotpotqa | 2wikimultihopqa | musique."""
    cot_max_new_tokens: int = 128
    elicit: bool = False
    """A chain of thought that stops without stating its answer (its token budget spent, or an end of turn
    first) is led on from "So the answer is" with the same passages and adapters: the second stage of
    Kojima et al.'s (2022) zero-shot reasoning. The paper's protocol scores what follows that phrase, so
    without it an answer's format weighs as much as its content (RAG leaves it out of about 40 % of its
    HotpotQA answers, where the adapters teach it)."""
    at_once: bool = False
    """A `cot` prompt's answer is stated at once: its assistant turn begins "Answer: So the answer is", so the
    prompt, passages and worked examples are the chain of thought's and no reasoning is generated. It is
    the answer `bench/answer_likelihood.py` scores, where the retrieved adapters make the gold answer more
    probable, generated; and it costs a few tokens instead of a chain of thought. The `short` prompt states
    its answer at once already; FLARE and DRAGIN, which retrieve between a chain of thought's sentences,
    keep theirs."""
    sentence_tokens: int = 48
    """Bound on one sentence of FLARE's and DRAGIN's step-by-step generation."""
    max_rounds: int = 8
    """Bound on FLARE's and DRAGIN's generate-and-check rounds per question."""
    flare_threshold: float = 0.4
    """FLARE retrieves when any token of the look-ahead sentence has a probability below this."""
    dragin_threshold: float = 0.02
    """DRAGIN retrieves at the first token whose entropy × attention received × significance exceeds this.
    Set by bench/calibrate_active.py on dev questions 100-131 of HotpotQA-500 and 2Wiki-500 with
    Qwen2.5-Coder-0.5B so that it retrieves in about as many first sentences as FLARE at its threshold
    (54 of 64 for both; the earlier 0.05, set on questions 450-457 before they were reserved, gives 34)."""
    dragin_query_words: int = 8
    """Words in DRAGIN's query: those the triggering token attends to most."""
    max_question_chars: int = 2_000
    """Longer questions are refused, by the CLI, the library and the HTTP service alike."""
    merge: Merge = field(default_factory=Merge)
    """How P-RAG, Combine and `auto` combine the retrieved adapters; the paper's plain sum by default."""
    combine_merge: Merge | None = None
    """Combine's own merge, when it differs from `merge`: with the passages in the prompt the adapters
    need only nudge, and a smaller α can serve Combine better than P-RAG's."""

    @property
    def stated_at_once(self) -> bool:
        """Whether answers skip the chain of thought (`at_once` with the `cot` prompt): what a run records."""
        return self.at_once and self.prompt == "cot"

    @property
    def label(self) -> str:
        """How answers are asked for, as `prag status` shows it: `prompt cot (stated at once) · BM25 top-3`."""
        return answering_label(self.prompt, self.elicit, self.stated_at_once, self.retrieval, self.top_k)

    def merge_of(self, combine: bool) -> Merge:
        """The merge of Combine (`combine`) or of the other adapter modes."""
        return self.combine_merge if combine and self.combine_merge is not None else self.merge

    @property
    def merges(self) -> tuple[Merge, ...]:
        return (self.merge,) if self.combine_merge is None else (self.merge, self.combine_merge)

    @property
    def merge_label(self) -> str:
        """What reports and run folders record: `mean`, or `sum×0.5, combine mean×0.5`."""
        if self.combine_merge is None:
            return self.merge.label
        return f"{self.merge.label}, combine {self.combine_merge.label}"

    def __post_init__(self) -> None:
        if self.prompt not in PROMPTS:
            raise ValueError(f"prompt must be one of {PROMPTS}, got {self.prompt!r}")
        if self.retrieval not in RETRIEVALS:
            raise ValueError(f"retrieval must be one of {RETRIEVALS}, got {self.retrieval!r}")
        # Each is a count of something the answer step does; 0 would fail far from here (a batch loop's
        # step of 0, an empty generation), so it is refused where it is set.
        for name in ("top_k", "max_new_tokens", "batch_size", "short_batch_size", "cot_max_new_tokens",
                     "sentence_tokens", "max_rounds", "dragin_query_words", "max_question_chars"):
            if (value := getattr(self, name)) < 1:
                raise ValueError(f"{name} must be at least 1, got {value}")

    @property
    def prompt_name(self) -> str:
        """`short`, or `cot:<exemplars>`: what a recipe trained in the answer prompt records."""
        return f"cot:{self.exemplars}" if self.prompt == "cot" else "short"


@dataclass(frozen=True)
class IngestConfig:
    max_document_words: int = 400
    """Longer documents are split into chunks of at most this many words, each its own document.
    Three retrieved chunks plus the prompt then fit every supported model's context with room to spare."""
    max_document_chars: int = 20_000
    """Chunks are bounded by characters too, for text whose words are few but long (a long token, a script
    written without spaces); a word longer than this is cut. Ordinary prose reaches the word bound first."""


@dataclass(frozen=True)
class ServiceConfig:
    """Limits of the HTTP service: each breach is a 4xx answer with a message."""

    max_body_bytes: int = 2 * 2**20
    max_documents_per_request: int = 100
    max_id_chars: int = 256
    max_title_chars: int = 1_000
    max_top_k: int = 10
    max_page: int = 1_000
    batch_window_s: float = 0.01
    """How long the first waiting question waits for others to share its batch."""


@dataclass(frozen=True)
class Budget:
    """`prag build --budget`: encode only the most-demanded documents not yet encoded (the paper: "creating
    parametric representations for a tiny set of head documents can serve the majority of user requests");
    `auto` answers the rest in context."""

    documents: int | None = None
    """At most this many documents."""
    share: float | None = None
    """Or at most this share (0-1] of the collection's documents, rounded up."""

    def __post_init__(self) -> None:
        if (self.documents is None) == (self.share is None):
            raise ValueError("a budget is a number of documents or a share of the collection, exactly one of them")
        if self.documents is not None and self.documents < 1:
            raise ValueError(f"a budget of documents must be at least 1, got {self.documents}")
        if self.share is not None and not 0 < self.share <= 1:
            raise ValueError(f"a budget's share must be above 0 and at most 1 (100%), got {self.share}")

    def size(self, collection_size: int) -> int:
        if self.documents is not None:
            return self.documents
        return math.ceil(self.share * collection_size)


def parse_budget(text: str) -> Budget:
    """`N` documents, or `P%` of the collection, e.g. `500` or `5%`."""
    try:
        if text.strip().endswith("%"):
            return Budget(share=float(text.strip()[:-1]) / 100)
        return Budget(documents=int(text))
    except ValueError as e:
        raise InputError(f"--budget {text!r}: {e if 'budget' in str(e) else 'give a number of documents or a share such as 5%'}") from None


@dataclass(frozen=True)
class ClusterConfig:
    """Where `prag build --ray` augments and encodes: Ray actors that each load the model once."""

    address: str = "local"
    """`local`: a Ray started on this machine for the run; `auto`: the cluster in `RAY_ADDRESS` (or the one
    running here); or a cluster's HOST:PORT."""
    workers: int | None = None
    """Actors to start; None: as many as the cluster's CPUs hold at `cpus_per_worker` each."""
    cpus_per_worker: int = 1
    """CPUs Ray reserves for each actor, and so its torch threads."""
    max_attempts: int = 3
    """A batch whose worker dies is sent to another worker, up to this many attempts in all."""
    start_timeout_s: float = 600.0
    """How long the build waits for a worker to load the model when no other worker is busy."""

    def __post_init__(self) -> None:
        if not self.address.strip():
            raise ValueError("the Ray address is empty: give local, auto or HOST:PORT")
        if self.workers is not None and self.workers < 1:
            raise ValueError(f"workers must be at least 1, got {self.workers}")
        if self.cpus_per_worker < 1:
            raise ValueError(f"cpus_per_worker must be at least 1, got {self.cpus_per_worker}")
        if self.max_attempts < 1:
            raise ValueError(f"max_attempts must be at least 1, got {self.max_attempts}")


@dataclass(frozen=True)
class Settings:
    """One object that the facade unpacks; components receive only their own part."""

    recipe: Recipe = DEFAULT_RECIPE
    augment: AugmentConfig = field(default_factory=AugmentConfig)
    answer: AnswerConfig = field(default_factory=AnswerConfig)
    ingest: IngestConfig = field(default_factory=IngestConfig)
    service: ServiceConfig = field(default_factory=ServiceConfig)

    def __post_init__(self) -> None:
        # A recipe trained in the answer prompt follows this object's answers; `replace(settings, answer=…)`
        # runs this again, so the two never disagree.
        object.__setattr__(self, "recipe", self.recipe.in_prompt_of(self.answer))

    def with_recipe(self, recipe: Recipe) -> "Settings":
        return replace(self, recipe=recipe)

    @classmethod
    def for_model(cls, model: str) -> "Settings":
        """The defaults, with `model`'s own recipe and merges."""
        return cls(recipe=recipe_for(model), answer=AnswerConfig(merge=merge_for(model), combine_merge=combine_merge_for(model)))


def _digest(obj: object) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True).encode()).hexdigest()[:16]
