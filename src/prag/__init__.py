"""prag: Parametric Retrieval-Augmented Generation (Su, Tang et al., SIGIR 2025), offline."""

__version__ = "0.1.0"

from prag.api import AddReport, BuildReport, Prag, Status, run_demo  # noqa: E402
from prag.config import DEFAULT_RECIPE, PAPER_RECIPE, RECIPES, AugmentConfig, AnswerConfig, Recipe, Settings  # noqa: E402
from prag.errors import PragError  # noqa: E402
from prag.types import Answer, Document, Mode  # noqa: E402

__all__ = [
    "AddReport", "Answer", "AnswerConfig", "AugmentConfig", "BuildReport", "DEFAULT_RECIPE", "Document", "Mode",
    "PAPER_RECIPE", "Prag", "PragError", "RECIPES", "Recipe", "Settings", "Status", "run_demo",
]
