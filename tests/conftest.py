"""Shared fixtures. The spaCy model loads once per test session: loading takes about a second."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def nlp():
    from quotewire.entities import load_nlp
    from quotewire.settings import Settings

    return load_nlp(Settings().spacy_model)
