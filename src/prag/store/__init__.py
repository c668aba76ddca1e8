"""Persistent state: the SQLite catalogue, adapter files, BM25 files and build locks."""
