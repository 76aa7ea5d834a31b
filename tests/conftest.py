"""Shared fixtures. The spaCy model loads once per test session: loading takes about a second;
one temporary Prefect server serves every test module that runs flows."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def nlp():
    from quotewire.analyse.entities import load_nlp
    from quotewire.settings import Settings

    return load_nlp(Settings().spacy_model)


@pytest.fixture(scope="session")
def prefect_harness(tmp_path_factory):
    """One temporary Prefect server for the whole session, with PREFECT_HOME in a temp dir."""
    from prefect.settings import PREFECT_HOME, temporary_settings
    from prefect.testing.utilities import prefect_test_harness

    home = tmp_path_factory.mktemp("prefect-home")
    with temporary_settings({PREFECT_HOME: str(home)}):
        with prefect_test_harness(server_startup_timeout=60):
            yield
