"""Where prag keeps its state: one folder, `PRAG_HOME`, overridable per call."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

from prag.errors import InputError

HOME_ENV = "PRAG_HOME"
MODEL_CACHE_ENV = "PRAG_MODEL_CACHE"


def prag_home(override: str | os.PathLike | None = None) -> Path:
    """The state folder: `override` (`--home`), else `$PRAG_HOME`, else the user data dir. It need not exist
    yet (the catalogue creates it), but it must not be something other than a folder."""
    if override:
        return _folder(Path(override).expanduser(), "--home")
    if os.environ.get(HOME_ENV):
        return _folder(Path(os.environ[HOME_ENV]).expanduser(), HOME_ENV)
    return Path(platformdirs.user_data_dir("prag"))


def _folder(home: Path, given_by: str) -> Path:
    if home.exists() and not home.is_dir():
        raise InputError(f"{home} (from {given_by}) is a file, not a folder: give the folder prag should keep its state in")
    return home


def model_cache(home: Path) -> Path:
    """Converted models are large and shared: a separate variable lets tests and users share one copy."""
    if os.environ.get(MODEL_CACHE_ENV):
        return Path(os.environ[MODEL_CACHE_ENV]).expanduser()
    return home / "models"
