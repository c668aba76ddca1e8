"""Benchmark loaders: each dataset's original format and the copies in shared/data, read into one shape.

Questions keep file order. Datasets that carry per-question paragraphs (HotpotQA distractor, 2Wiki,
MuSiQue) give a closed retrieval corpus: the union of every question's paragraphs, deduplicated on
(title, text), with each question's supporting paragraphs marked as its gold documents.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable

from prag.config import PROMPTS, AnswerConfig
from prag.errors import InputError
from prag.ingest import json_lines, make_document, read_text
from prag.model.exemplars import EXEMPLARS
from prag.types import Document

DATASETS = ("hotpotqa", "2wikimultihopqa", "musique", "popqa", "cwq")
MULTI_HOP = ("hotpotqa", "2wikimultihopqa", "musique")
"""Answered with chain-of-thought prompting, as the paper does for 2Wiki and HotpotQA."""
TWOWIKI_ALIASES = "id_aliases.json"


def answer_prompt(dataset: str, prompt: str | None = None) -> str:
    """The prompt `dataset`'s questions are asked in: `prompt` when given, else chain of thought for the
    multi-hop sets and the short prompt for the others. A warm-up and the evaluation it serves must agree
    on it, since a recipe trained in the answer prompt keys its adapters by that prompt."""
    chosen = prompt or ("cot" if dataset in MULTI_HOP else "short")
    if chosen not in PROMPTS:
        raise InputError(f"unknown prompt {chosen!r}; choose one of {', '.join(PROMPTS)}")
    if chosen == "cot" and dataset not in EXEMPLARS:
        raise InputError(f"chain of thought has worked examples for {', '.join(EXEMPLARS)} only; use --prompt short")
    return chosen


def asked_as(answer: AnswerConfig, dataset: str, prompt: str | None = None) -> AnswerConfig:
    """`answer` set to ask `dataset`'s questions: its prompt (`answer_prompt`) and its worked examples.
    The one place `prag eval` and `prag warmup` agree on how a dataset is asked."""
    return replace(answer, prompt=answer_prompt(dataset, prompt), exemplars=dataset)


@dataclass(frozen=True)
class Example:
    id: str
    question: str
    golds: tuple[str, ...]
    """Every acceptable answer (the answer and its aliases)."""
    type: str
    """The dataset's own type field (`all` when it has none)."""
    contexts: tuple[Document, ...] = ()
    """The question's own paragraphs, when the dataset ships them."""
    gold_ids: tuple[str, ...] = ()
    """Ids of the supporting paragraphs among `contexts`."""
    evidence: tuple[str, ...] = ()
    """The supporting sentences, in the order the dataset lists them (HotpotQA and 2Wiki name them)."""


@dataclass
class Benchmark:
    name: str
    path: Path
    examples: list[Example] = field(default_factory=list)

    @property
    def has_contexts(self) -> bool:
        return any(e.contexts for e in self.examples)

    def corpus(self) -> list[Document]:
        """The union of all context paragraphs of the file, first occurrence first."""
        seen: dict[str, Document] = {}
        for example in self.examples:
            for doc in example.contexts:
                seen.setdefault(doc.id, doc)
        return list(seen.values())


def load(dataset: str, path: str | Path) -> Benchmark:
    if dataset not in LOADERS:
        raise InputError(f"unknown dataset {dataset!r}; choose one of {', '.join(DATASETS)}")
    path = Path(path)
    examples = LOADERS[dataset](path)
    if not examples:
        raise InputError(f"{path}: no questions in file")
    ids = [e.id for e in examples]
    if len(set(ids)) != len(ids):
        raise InputError(f"{path}: question ids are not unique")
    return Benchmark(dataset, path, examples)


def aliases_file(dataset: str, path: str | Path) -> Path | None:
    """The answer-alias file a loader reads beside the data file, when there is one: it changes the golds."""
    aliases = Path(path).parent / TWOWIKI_ALIASES
    return aliases if dataset == "2wikimultihopqa" and aliases.is_file() else None


# -- file formats --------------------------------------------------------------------------------


def _records(path: Path) -> list[dict]:
    """A JSON array, or JSON lines (the official MuSiQue files and AMOR's HotpotQA copy are JSONL)."""
    text = read_text(path).lstrip("\ufeff")
    if text.lstrip().startswith("["):
        try:
            records = json.loads(text)
        except json.JSONDecodeError as e:
            raise InputError(f"{path}: not valid JSON ({e.msg} at line {e.lineno})") from None
    else:
        records = [record for _, record in json_lines(path, text)]
    for number, record in enumerate(records, start=1):
        if not isinstance(record, dict) or not isinstance(record.get("question"), str):
            raise InputError(f"{path}: record {number} is not an object with a string \"question\"")
    return records


def _answers(value: object, where: str) -> tuple[str, ...]:
    answers = [value] if isinstance(value, str) else value
    if not isinstance(answers, list) or not all(isinstance(a, str) for a in answers):
        raise InputError(f"{where}: the answer must be a string or a list of strings")
    golds = tuple(dict.fromkeys(a.strip() for a in answers if a.strip()))
    if not golds:
        raise InputError(f"{where}: no non-empty answer")
    return golds


def _joined(sentences: list[str]) -> str:
    """HotpotQA's sentences carry their leading space and 2Wiki's do not: one space goes between two
    sentences only where neither side has one, so neither format glues "entrepreneur.De"."""
    text = ""
    for sentence in sentences:
        if text and sentence and not text[-1].isspace() and not sentence[0].isspace():
            text += " "
        text += sentence
    return text.strip()


def _titled_contexts(record: dict, where: str) -> tuple[tuple[Document, ...], tuple[str, ...], tuple[str, ...]]:
    """HotpotQA/2Wiki `context` [[title, [sentences]]] and `supporting_facts` [[title, sentence index]]:
    the paragraphs, the supporting paragraphs' ids and the supporting sentences."""
    contexts = []
    sentences_of: dict[str, list[str]] = {}
    for title, sentences in record.get("context") or []:
        sentences_of.setdefault(title, sentences)
        text = _joined(sentences)
        if text:
            contexts.append(make_document(text, title=title, where=where))
    facts = record.get("supporting_facts") or []
    gold_titles = {title for title, _ in facts}
    gold = tuple(dict.fromkeys(d.id for d in contexts if d.title in gold_titles))
    return tuple(contexts), gold, _supporting_sentences(facts, sentences_of)


def _supporting_sentences(facts: list, sentences_of: dict[str, list[str]]) -> tuple[str, ...]:
    """The sentences `facts` point at, those that exist, cleaned of the leading punctuation 2Wiki's
    sentence splitting leaves (", he was the second son of …")."""
    found = []
    for title, index in facts:
        sentences = sentences_of.get(title, [])
        if isinstance(index, int) and 0 <= index < len(sentences):
            sentence = sentences[index].strip().lstrip(",;: ").strip()
            if sentence:
                found.append(sentence)
    return tuple(dict.fromkeys(found))


# -- datasets ------------------------------------------------------------------------------------


def _hotpotqa(path: Path) -> list[Example]:
    """Distractor format (`_id`, `question`, `answer`, `type`, `context`, `supporting_facts`); files
    without contexts (e.g. hotpot_dev_v1_simplified.json) load as question/answer lists."""
    return _titled_examples(path, lambda record, number: str(record.get("_id", number)))


def _2wikimultihopqa(path: Path) -> list[Example]:
    """The original format (aliases from `id_aliases.json` beside it when present, keyed by the record's
    `answer_id`), or PRAG's processed format (`test_id`, `question`, `answer` as a list)."""
    aliases = _2wiki_aliases(aliases_file("2wikimultihopqa", path))
    return _titled_examples(
        path,
        lambda record, number: str(record.get("_id", record.get("test_id", number))),
        lambda record: aliases.get(record.get("answer_id"), []),
    )


def _titled_examples(
    path: Path, id_of: Callable[[dict, int], str], aliases_of: Callable[[dict], list[str]] = lambda record: []
) -> list[Example]:
    """HotpotQA and 2Wiki share one shape: a question, its answer, its type and titled paragraphs."""
    examples = []
    for number, record in enumerate(_records(path)):
        where = f"{path}: record {number + 1}"
        golds = _answers(record.get("answer"), where)
        golds += tuple(a for a in aliases_of(record) if a not in golds)
        contexts, gold, evidence = _titled_contexts(record, where)
        examples.append(
            Example(
                id=id_of(record, number),
                question=record["question"],
                golds=golds,
                type=record.get("type") or "all",
                contexts=contexts,
                gold_ids=gold,
                evidence=evidence,
            )
        )
    return examples


def _2wiki_aliases(path: Path | None) -> dict[str, list[str]]:
    if path is None:
        return {}
    aliases = {}
    for where, record in json_lines(path, read_text(path)):
        if not isinstance(record, dict) or not isinstance(record.get("Q_id"), str):
            raise InputError(f"{where}: expected an object with a string \"Q_id\"")
        aliases[record["Q_id"]] = list(record.get("aliases", []))
    return aliases


def _musique(path: Path) -> list[Example]:
    """MuSiQue-Ans: 20 paragraphs per question, `is_supporting` marks the gold ones; the hop type is the
    id's prefix (`2hop__…`, `3hop1__…`)."""
    examples = []
    for number, record in enumerate(_records(path)):
        where = f"{path}: record {number + 1}"
        contexts, gold = [], []
        for p in record.get("paragraphs") or []:
            doc = make_document(p["paragraph_text"], title=p.get("title", ""), where=where)
            contexts.append(doc)
            if p.get("is_supporting"):
                gold.append(doc.id)
        answers = [record.get("answer"), *(record.get("answer_aliases") or [])]
        qid = str(record.get("id", number))
        examples.append(
            Example(qid, record["question"], _answers(answers, where), qid.split("__")[0], tuple(contexts), tuple(gold))
        )
    return examples


def _popqa(path: Path) -> list[Example]:
    """The official `popQA.tsv` (`possible_answers` a JSON list, relation in `prop`), or FlashRAG's JSONL
    (`golden_answers`, `metadata.prop`). No passages ship with PopQA."""
    if path.suffix == ".tsv":
        rows = list(csv.DictReader(read_text(path).split("\n"), delimiter="\t"))  # not splitlines(): U+2028 etc. are text
        return [
            Example(
                str(row.get("id", number)),
                row["question"],
                _answers(json.loads(row["possible_answers"]), f"{path}: row {number + 2}"),
                row.get("prop") or "all",
            )
            for number, row in enumerate(rows)
        ]
    return [
        Example(
            str(record.get("id", number)),
            record["question"],
            _answers(record.get("golden_answers", record.get("answer")), f"{path}: record {number + 1}"),
            (record.get("metadata") or {}).get("prop") or "all",
        )
        for number, record in enumerate(_records(path))
    ]


def _cwq(path: Path) -> list[Example]:
    """The official ComplexWebQuestions dev JSON (`answers` [{answer, aliases}], `compositionality_type`),
    or PRAG's processed format (`answer` a list)."""
    examples = []
    for number, record in enumerate(_records(path)):
        where = f"{path}: record {number + 1}"
        if isinstance(record.get("answers"), list):
            answers = [a for item in record["answers"] for a in [item.get("answer"), *(item.get("aliases") or [])] if a]
        else:
            answers = record.get("answer")
        examples.append(
            Example(
                str(record.get("ID", record.get("test_id", number))),
                record["question"],
                _answers(answers, where),
                record.get("compositionality_type") or "all",
            )
        )
    return examples


LOADERS = {
    "hotpotqa": _hotpotqa,
    "2wikimultihopqa": _2wikimultihopqa,
    "musique": _musique,
    "popqa": _popqa,
    "cwq": _cwq,
}
