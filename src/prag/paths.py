"""Where prag keeps its state: one folder, `PRAG_HOME`, overridable per call."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

HOME_ENV = "PRAG_HOME"
MODEL_CACHE_ENV = "PRAG_MODEL_CACHE"


def prag_home(override: str | os.PathLike | None = None) -> Path:
    if override:
        return Path(override).expanduser()
    if os.environ.get(HOME_ENV):
        return Path(os.environ[HOME_ENV]).expanduser()
    return Path(platformdirs.user_data_dir("prag"))


def model_cache(home: Path) -> Path:
    """Converted models are large and shared: a separate variable lets tests and users share one copy."""
    if os.environ.get(MODEL_CACHE_ENV):
        return Path(os.environ[MODEL_CACHE_ENV]).expanduser()
    return home / "models"
