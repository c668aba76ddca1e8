"""Errors a user can act on. The CLI prints their message and exits non-zero; nothing else is caught."""


class PragError(Exception):
    """Base of every error caused by input, state or set-up rather than by a bug."""


class InputError(PragError):
    """A file, document, question or option is not acceptable."""


class NotBuiltError(PragError):
    """The collection does not exist or has not been built for this model and recipe."""


class BusyError(PragError):
    """Another process holds the collection's build lock."""


class ModelError(PragError):
    """A model cannot be found, verified or loaded offline."""


class EncodingError(PragError):
    """A document could not be turned into a usable adapter (e.g. its training diverged)."""


class DamagedError(NotBuiltError):
    """Stored state (an adapter, the BM25 index) is unreadable or differs from what was written: the next
    `prag build` writes it again."""


class StateError(PragError):
    """The state folder (`PRAG_HOME`) cannot serve the command: it cannot be created, it is read-only for a
    command that writes, or its database is damaged."""


class ClusterError(PragError):
    """A Ray cluster cannot run the build: Ray is not installed, the cluster cannot be reached, or its
    workers lack prag or the model."""
