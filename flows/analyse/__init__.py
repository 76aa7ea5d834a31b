"""Decoded documents -> article structure, entity mentions, quotes and their speakers."""
