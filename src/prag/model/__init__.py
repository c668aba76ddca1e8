"""The language model: locating and converting it offline, prompts, and generation."""
