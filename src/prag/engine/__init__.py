"""Online inference: the one place that dispatches on mode."""

from prag.engine.engine import Engine

__all__ = ["Engine"]
