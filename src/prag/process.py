"""Process-wide settings for the processes prag starts (the CLI and its server, the test suite). Made
there, not as a side effect of importing prag, so a library caller's own settings stay theirs."""

from __future__ import annotations

import os


def configure_process() -> None:
    """Call before anything imports transformers: huggingface_hub reads its offline flag once, on import."""
    # Never reach a hub: every model prag loads is a local folder.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    import transformers

    # prag draws its own progress; transformers' per-load bars and warnings would interleave with it.
    transformers.logging.set_verbosity_error()
    transformers.logging.disable_progress_bar()
