"""Retrieval of the top-k documents for a question."""

from prag.retrieve.bm25 import BM25Index

__all__ = ["BM25Index"]
