"""The state folder when it is not what prag needs: a file, not creatable, read-only, or holding a damaged
catalogue. Each is one line saying what to do, from the library and from the CLI (exit code 2)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from typer.testing import CliRunner

from prag import Prag
from prag.cli.main import app
from prag.errors import InputError, StateError
from prag.store import db as db_module

runner = CliRunner()


def cli(*args: str):
    return runner.invoke(app, list(args))


def assert_one_line_error(result, *fragments: str) -> None:
    text = " ".join(result.output.split())  # rich wraps a long line at the terminal's width
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert text.startswith("error:") and text.count("error:") == 1
    for fragment in fragments:
        assert fragment in text


def test_a_home_that_is_a_file_is_refused(tmp_path, monkeypatch):
    home = tmp_path / "not-a-folder"
    home.write_text("")
    with pytest.raises(InputError, match="not-a-folder \\(from --home\\) is a file, not a folder"):
        Prag(home)
    assert_one_line_error(cli("--home", str(home), "status"), "is a file, not a folder")
    monkeypatch.setenv("PRAG_HOME", str(home))
    assert_one_line_error(cli("status"), "(from PRAG_HOME) is a file")


def test_a_home_that_cannot_be_created_says_so(tmp_path):
    (tmp_path / "file").write_text("")
    with pytest.raises(StateError, match="cannot create .*file/home \\(Not a directory\\)"):
        Prag(tmp_path / "file" / "home")
    assert_one_line_error(cli("--home", str(tmp_path / "file" / "home"), "status"), "cannot create")


# A damaged catalogue.


def catalogue_with_documents(home: Path, facts_file: Path) -> Path:
    prag = Prag(home)
    prag.add([facts_file])
    prag.catalog.db.close()
    return home / "prag.db"


def overwrite_with_random_bytes(path: Path) -> None:
    path.write_bytes(os.urandom(path.stat().st_size))


def truncate_to_half(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def truncate_inside_the_header(path: Path) -> None:
    path.write_bytes(path.read_bytes()[:60])


def overwrite_the_pages_after_the_first(path: Path) -> None:
    # The header stays intact, so the database opens; only reading the other pages finds the damage.
    data = path.read_bytes()
    path.write_bytes(data[:4096] + os.urandom(len(data) - 4096))


@pytest.mark.parametrize(
    "damage", [overwrite_with_random_bytes, truncate_to_half, truncate_inside_the_header, overwrite_the_pages_after_the_first]
)
def test_a_damaged_catalogue_is_one_line_saying_what_to_do(isolated_home, facts_file, damage):
    path = catalogue_with_documents(isolated_home, facts_file)
    damage(path)
    with pytest.raises(StateError, match="prag.db is damaged .*move it aside and `prag add` the documents again"):
        Prag()
    assert_one_line_error(cli("status"), "prag.db is damaged")
    assert_one_line_error(cli("ask", "Where is Velmora?"), "prag.db is damaged")


# A read-only home: what only reads works, what writes is refused with a reason.


@pytest.fixture
def read_only(monkeypatch):
    """Makes a folder and everything in it read-only. Root passes permission checks regardless, so there
    the writability test is told the truth; SQLite still enforces the read-only opening."""
    changed: list[tuple[Path, int]] = []

    def make_read_only(folder: Path) -> None:
        for path in [folder, *folder.rglob("*")]:
            changed.append((path, path.stat().st_mode))
            path.chmod(path.stat().st_mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))
        if os.access(folder, os.W_OK):
            monkeypatch.setattr(db_module, "_writable", lambda path: False)

    yield make_read_only
    for path, mode in reversed(changed):
        path.chmod(mode)


def test_a_read_only_home_answers_and_reports_but_refuses_changes(tiny, tiny_model_dir, facts_file, isolated_home, read_only):
    tiny.build()
    answer_before = tiny.ask("When was Velmora founded?", "prag").text
    tiny.catalog.db.close()
    read_only(isolated_home)

    prag = Prag(model=str(tiny_model_dir), settings=tiny.settings)
    assert prag.status().encoded == 3
    assert prag.ask("When was Velmora founded?", "prag").text == answer_before
    for change in (lambda: prag.add([facts_file]), prag.build, lambda: prag.delete("velmora")):
        with pytest.raises(StateError, match="is read-only: `prag status` and `prag ask` can read it"):
            change()
    assert len(prag.documents()) == 3


def test_a_read_only_home_from_the_cli(tiny, tiny_model_dir, facts_file, isolated_home, read_only):
    tiny.build(encode=False, augment=False)
    tiny.catalog.db.close()
    read_only(isolated_home)
    model = ["--model", str(tiny_model_dir)]
    status = cli(*model, "status")
    assert status.exit_code == 0 and "3" in status.output, status.output
    asked = cli(*model, "ask", "When was Velmora founded?", "--mode", "rag", "--json")
    assert asked.exit_code == 0 and '"mode": "rag"' in asked.output, asked.output
    assert_one_line_error(cli(*model, "add", str(facts_file)), "is read-only")
    assert_one_line_error(cli(*model, "build"), "is read-only")


def test_a_read_only_home_without_a_catalogue_says_so(isolated_home, read_only):
    isolated_home.mkdir()
    read_only(isolated_home)
    with pytest.raises(StateError, match="is read-only and holds no catalogue \\(prag.db\\) yet"):
        Prag()


def test_a_read_only_catalogue_of_an_older_prag_asks_for_write_access(isolated_home, read_only, monkeypatch):
    with monkeypatch.context() as older:
        older.setattr(db_module, "MIGRATIONS", db_module.MIGRATIONS[:2])
        db_module.connect(isolated_home / "prag.db").close()
    read_only(isolated_home)
    with pytest.raises(StateError, match="written by an older prag and needs upgrading, which needs write access"):
        Prag()
