"""prag: Parametric Retrieval-Augmented Generation (Su, Tang et al., SIGIR 2025), offline.

The names below load on first use, so `from prag.types import Mode` or `import prag.config` imports no
torch; `from prag import Prag` loads the model stack.
"""

from __future__ import annotations

import importlib

__version__ = "0.1.0"

_EXPORTS = {
    "AddReport": "prag.api", "BuildReport": "prag.api", "Prag": "prag.api", "Status": "prag.api",
    "run_demo": "prag.eval.demo",
    "AnswerConfig": "prag.config", "AugmentConfig": "prag.config", "DEFAULT_RECIPE": "prag.config",
    "PAPER_RECIPE": "prag.config", "RECIPES": "prag.config", "Recipe": "prag.config", "Settings": "prag.config",
    "PragError": "prag.errors",
    "Answer": "prag.types", "Document": "prag.types", "Mode": "prag.types",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> object:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'prag' has no attribute {name!r}")
    value = getattr(importlib.import_module(_EXPORTS[name]), name)
    globals()[name] = value  # looked up once
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])
