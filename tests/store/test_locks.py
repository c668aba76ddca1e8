"""The exclusive build lock."""

from __future__ import annotations

import pytest

from prag.errors import BusyError
from prag.store.locks import exclusive


def test_a_second_holder_is_refused_while_the_first_holds_the_lock(tmp_path):
    path = tmp_path / "locks" / "build.lock"
    with exclusive(path, "prag build"):
        with pytest.raises(BusyError, match=r"prag build is already running"):
            with exclusive(path, "prag build"):
                pass


def test_the_lock_can_be_taken_again_after_release(tmp_path):
    path = tmp_path / "build.lock"
    with exclusive(path, "prag build"):
        pass
    entered = False
    with exclusive(path, "prag build"):
        entered = True
    assert entered


def test_the_lock_is_released_when_the_holder_raises(tmp_path):
    path = tmp_path / "build.lock"
    with pytest.raises(RuntimeError):
        with exclusive(path, "prag build"):
            raise RuntimeError("crash")
    with exclusive(path, "prag build"):
        pass


def test_locks_on_different_paths_do_not_conflict(tmp_path):
    with exclusive(tmp_path / "one.lock", "build one"):
        with exclusive(tmp_path / "two.lock", "build two"):
            pass


def test_a_refused_attempt_does_not_release_the_holder(tmp_path):
    path = tmp_path / "build.lock"
    with exclusive(path, "prag build"):
        with pytest.raises(BusyError):
            with exclusive(path, "prag build"):
                pass
        with pytest.raises(BusyError):
            with exclusive(path, "prag build"):
                pass
