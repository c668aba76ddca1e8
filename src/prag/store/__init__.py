"""Persistent state: the SQLite catalogue and its encoding queue, adapter and warm-up files, atomic writes and
build locks."""
