"""Atomic file and folder writes, and JSONL appends that survive a torn last line."""

from __future__ import annotations

import json
import os

import pytest

from prag.store import files
from prag.store.files import append_jsonl, read_jsonl, sha256_file, staged_folder, write_json_atomic


class Crash(Exception):
    pass


def test_write_json_atomic_writes_the_object_and_leaves_no_temp_file(tmp_path):
    path = tmp_path / "sub" / "state.json"
    write_json_atomic(path, {"b": 1, "a": [1, 2]})
    assert json.loads(path.read_text()) == {"b": 1, "a": [1, 2]}
    assert [p.name for p in path.parent.iterdir()] == ["state.json"]


def test_write_json_atomic_replaces_an_existing_file(tmp_path):
    path = tmp_path / "state.json"
    write_json_atomic(path, {"v": 1})
    write_json_atomic(path, {"v": 2})
    assert json.loads(path.read_text()) == {"v": 2}
    assert [p.name for p in tmp_path.iterdir()] == ["state.json"]


def test_write_json_atomic_that_fails_keeps_the_old_file(tmp_path):
    path = tmp_path / "state.json"
    write_json_atomic(path, {"v": 1})
    with pytest.raises(TypeError):
        write_json_atomic(path, {"v": object()})
    assert json.loads(path.read_text()) == {"v": 1}


def test_write_json_atomic_that_fails_leaves_no_temp_file(tmp_path):
    with pytest.raises(TypeError):
        write_json_atomic(tmp_path / "state.json", {"v": object()})
    assert list(tmp_path.iterdir()) == []


def test_staged_folder_creates_the_final_folder_on_success(tmp_path):
    final = tmp_path / "parent" / "adapter"
    with staged_folder(final) as stage:
        assert stage.parent == final.parent and stage != final and not final.exists()
        (stage / "weights.bin").write_bytes(b"new")
    assert (final / "weights.bin").read_bytes() == b"new"
    assert [p.name for p in final.parent.iterdir()] == ["adapter"]


def test_staged_folder_replaces_an_existing_folder_on_success(tmp_path):
    final = tmp_path / "adapter"
    final.mkdir()
    (final / "old.bin").write_bytes(b"old")
    with staged_folder(final) as stage:
        (stage / "new.bin").write_bytes(b"new")
    assert sorted(p.name for p in final.iterdir()) == ["new.bin"]
    assert [p.name for p in tmp_path.iterdir()] == ["adapter"]


def test_staged_folder_keeps_the_old_folder_when_the_body_raises(tmp_path):
    final = tmp_path / "adapter"
    final.mkdir()
    (final / "old.bin").write_bytes(b"old")
    with pytest.raises(Crash):
        with staged_folder(final) as stage:
            (stage / "new.bin").write_bytes(b"half")
            raise Crash
    assert sorted(p.name for p in final.iterdir()) == ["old.bin"]
    assert (final / "old.bin").read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["adapter"]


def test_staged_folder_that_raises_creates_nothing(tmp_path):
    final = tmp_path / "adapter"
    with pytest.raises(Crash):
        with staged_folder(final):
            raise Crash
    assert list(tmp_path.iterdir()) == []


def test_staged_folder_keeps_the_old_folder_when_the_final_rename_fails(tmp_path, monkeypatch):
    final = tmp_path / "adapter"
    final.mkdir()
    (final / "old.bin").write_bytes(b"old")
    real_replace = os.replace

    def failing_replace(src, dst):  # the stage cannot take the old folder's place
        if os.fspath(dst) == os.fspath(final) and os.fspath(src).endswith(".tmp"):
            raise OSError("disk gone")
        return real_replace(src, dst)

    monkeypatch.setattr(files.os, "replace", failing_replace)
    with pytest.raises(OSError, match="disk gone"):
        with staged_folder(final) as stage:
            (stage / "new.bin").write_bytes(b"new")
    monkeypatch.undo()
    assert (final / "old.bin").is_file() and [p.name for p in tmp_path.iterdir()] == ["adapter"]


def test_append_jsonl_writes_one_sorted_line_per_row(tmp_path):
    path = tmp_path / "out" / "rows.jsonl"
    append_jsonl(path, [{"b": 1, "a": 2}])
    append_jsonl(path, [{"c": 3}, {"d": 4}])
    assert path.read_text() == '{"a": 2, "b": 1}\n{"c": 3}\n{"d": 4}\n'


def test_append_jsonl_drops_a_torn_last_line_before_appending(tmp_path):
    path = tmp_path / "rows.jsonl"
    path.write_text('{"a": 1}\n{"b": 2}\n{"c": ')
    append_jsonl(path, [{"d": 4}])
    assert path.read_text() == '{"a": 1}\n{"b": 2}\n{"d": 4}\n'
    assert read_jsonl(path) == [{"a": 1}, {"b": 2}, {"d": 4}]


def test_append_jsonl_drops_a_torn_only_line(tmp_path):
    path = tmp_path / "rows.jsonl"
    path.write_text('{"a": ')
    append_jsonl(path, [{"b": 2}])
    assert path.read_text() == '{"b": 2}\n'


def test_read_jsonl_drops_a_torn_last_line(tmp_path):
    path = tmp_path / "rows.jsonl"
    path.write_text('{"a": 1}\n{"b": 2}\n{"c": 3, "d')
    assert read_jsonl(path) == [{"a": 1}, {"b": 2}]


def test_read_jsonl_of_a_missing_file_is_empty(tmp_path):
    assert read_jsonl(tmp_path / "missing.jsonl") == []


def test_a_row_read_back_survives_the_next_append(tmp_path):
    path = tmp_path / "rows.jsonl"
    path.write_text('{"a": 1}\n{"b": 2}')
    seen = read_jsonl(path)
    append_jsonl(path, [{"c": 3}])
    assert read_jsonl(path) == [*seen, {"c": 3}]


def test_sha256_file_matches_hashlib(tmp_path):
    import hashlib

    path = tmp_path / "blob.bin"
    path.write_bytes(b"x" * 1000)
    assert sha256_file(path) == hashlib.sha256(b"x" * 1000).hexdigest()
