"""The shared vocabulary: light imports (no torch for `prag.types`/`prag.config`), lazy top-level exports,
one list of modes behind the CLI, the benchmark and the server, and the job states."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest
from typer.testing import CliRunner

import prag
from prag.errors import InputError
from prag.types import CORE_MODES, JobState, Mode

HEAVY = ("torch", "transformers", "peft", "safetensors.torch")


def modules_loaded_by(code: str) -> dict[str, bool]:
    probe = f"import sys, json\n{code}\nprint(json.dumps({{m: m in sys.modules for m in {HEAVY!r}}}))"
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("code", [
    "import prag.types",
    "from prag.types import Mode",
    "import prag.config",
    "import prag",
    "import prag.types, prag.config, prag.errors; from prag import Mode, Recipe, Settings",
])
def test_light_imports_load_no_model_stack(code):
    loaded = modules_loaded_by(code)
    assert not any(loaded.values()), loaded


def test_the_probe_can_see_torch():
    # The check above would pass vacuously if the probe could not notice torch at all.
    assert modules_loaded_by("import torch")["torch"] is True


def test_prag_is_exported_lazily():
    from prag import Prag
    from prag.api import Prag as FacadePrag

    assert Prag is FacadePrag
    assert "Prag" in dir(prag) and "Mode" in dir(prag) and "__version__" in dir(prag)
    assert set(prag.__all__) <= set(dir(prag))
    with pytest.raises(AttributeError, match="no attribute 'Nope'"):
        prag.Nope  # noqa: B018


def test_every_export_resolves():
    for name in prag.__all__:
        assert getattr(prag, name) is not None, name


def test_parse_accepts_values_and_modes():
    assert Mode.parse("da-rag") is Mode.DA_RAG
    assert Mode.parse(Mode.COMBINE) is Mode.COMBINE
    assert [Mode.parse(m.value) for m in Mode] == list(Mode)


def test_parse_of_an_unknown_mode_lists_the_modes():
    with pytest.raises(InputError) as error:
        Mode.parse("magic")
    message = str(error.value)
    assert "'magic'" in message
    assert message.endswith(", ".join(m.value for m in Mode))
    with pytest.raises(InputError):
        Mode.parse("PRAG")  # values are exact


def test_benchmark_methods_are_the_benchmarked_modes_in_table_order():
    from prag.eval.run import METHODS, parse_methods

    assert METHODS == ("closed", "rag", "da-rag", "flare", "dragin", "prag", "combine")
    assert METHODS == tuple(m.value for m in Mode if m.benchmarked)
    assert "auto" not in METHODS
    assert parse_methods("combine,closed") == [Mode.CLOSED, Mode.COMBINE]  # table order, not the given one


def test_mode_properties_partition_as_documented():
    assert [m for m in Mode if m.served] == [Mode.CLOSED, Mode.RAG, Mode.PRAG, Mode.COMBINE, Mode.AUTO]
    assert set(CORE_MODES) == {m for m in Mode if m.served} - {Mode.AUTO}
    assert {m for m in Mode if m.active} == {Mode.FLARE, Mode.DRAGIN}
    assert not any(m.active and m.retrieves for m in Mode)
    assert {m for m in Mode if not m.retrieves and not m.active} == {Mode.CLOSED}
    assert {m for m in Mode if m.uses_adapters} == {Mode.PRAG, Mode.COMBINE}
    assert {m for m in Mode if m.uses_passages} == {Mode.RAG, Mode.DA_RAG, Mode.COMBINE}
    assert {m for m in Mode if m.uses_augmentations} == {Mode.DA_RAG}


def test_cli_ask_help_lists_every_mode():
    from prag.cli.main import app

    result = CliRunner().invoke(app, ["ask", "--help"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    # The help is drawn in a rich panel that may wrap: drop the box and join the lines.
    flat = " ".join(re.sub(r"[│╭╮╰╯─┃]", " ", result.output).split())
    assert " | ".join(m.value for m in Mode) in flat
    assert "auto" in flat.split()


def test_job_states():
    assert [s.value for s in JobState] == ["queued", "augmenting", "encoding", "encoded", "failed"]
    assert {s for s in JobState if s.unfinished} == {JobState.AUGMENTING, JobState.ENCODING}
    assert {s for s in JobState if s.pending} == {JobState.QUEUED, JobState.AUGMENTING, JobState.ENCODING}
    assert all(s.pending for s in JobState if s.unfinished)
    assert not JobState.ENCODED.pending and not JobState.FAILED.pending
    assert JobState("queued") is JobState.QUEUED
