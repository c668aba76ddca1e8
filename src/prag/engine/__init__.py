"""Online inference: the one place that dispatches on mode."""

from prag.engine.answer import Engine

__all__ = ["Engine"]
