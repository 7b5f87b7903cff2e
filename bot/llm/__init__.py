"""Adapters for outside services that are not chat channels: the LLM."""
