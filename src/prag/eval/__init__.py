"""Evaluation: metrics as pure functions, and runs over question sets."""
