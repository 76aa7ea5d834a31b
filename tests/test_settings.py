"""Settings.from_args: the one way from the environment, a command's flags and a flow run's
parameters to the settings."""

from __future__ import annotations

from pathlib import Path

import pytest

from quotewire.cli import build_parser
from quotewire.settings import Settings


@pytest.fixture
def environment(monkeypatch):
    for name in ("RAW", "WAREHOUSE", "SPACY_MODEL", "BATCH_SIZE", "WORKERS", "MAX_DELETE_SHARE"):
        monkeypatch.delenv(f"QUOTEWIRE_{name}", raising=False)
    monkeypatch.setenv("QUOTEWIRE_BATCH_SIZE", "7")
    monkeypatch.setenv("QUOTEWIRE_WORKERS", "3")
    return monkeypatch


def test_a_commands_flags_override_the_environment_and_other_flags_are_left_to_it(environment):
    args = build_parser().parse_args(["run", "--raw", "feed", "--warehouse", "wh", "--workers", "2",
                                      "--max-delete-share", "35%", "--allow-deletions", "--quiet"])
    settings = Settings.from_args(args)
    assert (settings.raw_dir, settings.warehouse_dir) == (Path("feed"), Path("wh"))
    assert (settings.workers, settings.max_delete_share, settings.allow_deletions) == (2, 0.35, True)
    assert settings.batch_size == 7  # no flag: the environment's


def test_flags_not_given_leave_the_environment_and_the_defaults(environment):
    settings = Settings.from_args(build_parser().parse_args(["check"]))
    assert settings == Settings()
    assert (settings.raw_dir, settings.warehouse_dir, settings.workers) == (Path("raw"), Path("warehouse"), 3)


def test_flow_parameters_arrive_as_json_gives_them_and_none_means_not_given(environment):
    settings = Settings.from_args(raw_dir="/data/raw", warehouse_dir=None, spacy_model="en_core_web_md",
                                  batch_size="50", workers=None, max_delete_share=0.5)
    assert settings.raw_dir == Path("/data/raw") and settings.warehouse_dir == Path("warehouse")
    assert (settings.spacy_model, settings.batch_size, settings.workers) == ("en_core_web_md", 50, 3)
    assert settings.max_delete_share == 0.5


def test_a_parameter_overrides_a_flag_and_a_bad_value_or_name_is_an_error(environment):
    args = build_parser().parse_args(["run", "--workers", "2"])
    assert Settings.from_args(args, workers=5).workers == 5
    with pytest.raises(ValueError, match="between 0 and 1"):
        Settings.from_args(max_delete_share="150%")
    with pytest.raises(TypeError, match="no such setting: batchsize"):
        Settings.from_args(batchsize=10)
