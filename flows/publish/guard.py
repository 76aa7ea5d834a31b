"""Safe by default: a run refuses to publish what looks like an accident rather than news.

Two checks, both in the ingest path so every entry point (``quotewire run``, ``serve``,
deployments, Dask) gets them:

- before planning, the raw root must be a readable directory: a missing, unmounted or
  unreadable share would otherwise read as "every file was deleted";
- after planning, a plan that would remove every published article, or more than
  ``max_delete_share`` of them, is refused unless deletions are allowed (as rsync's
  ``--max-delete``): the published warehouse stays as it was.

Each refusal is one line, raised as ``RunRefused``.
"""

from __future__ import annotations

import os
import stat
from collections import defaultdict
from collections.abc import Collection, Iterable
from pathlib import Path

DEFAULT_MAX_DELETE_SHARE = 0.2
ALLOW_HINT = "pass --allow-deletions (flow parameter allow_deletions) if that is intended"


class RunRefused(Exception):
    """The run would do something destructive that was not asked for; nothing was changed."""


class PathProblem(Exception):
    """A raw or warehouse path that cannot be what the command needs; one line for the user."""


def raw_root_problem(raw_dir: Path) -> str | None:
    """Why ``raw_dir`` cannot be read as a raw root, or None when it can."""
    try:
        if not stat.S_ISDIR(os.stat(raw_dir).st_mode):
            return f"raw folder {raw_dir} is not a directory"
        with os.scandir(raw_dir) as listing:
            next(listing, None)
    except (FileNotFoundError, NotADirectoryError):
        return f"raw folder {raw_dir} does not exist"
    except OSError as error:  # a folder above it or the folder itself without permission, a dead mount
        return f"raw folder {raw_dir} cannot be read: {error.strerror or error}"
    return None


def warehouse_dir_problem(warehouse_dir: Path) -> str | None:
    """Why ``warehouse_dir`` cannot hold a warehouse (it may not exist yet), or None."""
    try:
        is_dir = stat.S_ISDIR(os.stat(warehouse_dir).st_mode)
    except FileNotFoundError:
        return None  # the first run creates it
    except OSError as error:
        return f"warehouse {warehouse_dir} cannot be reached: {error.strerror or error}"
    return None if is_dir else f"warehouse {warehouse_dir} is not a directory"


def check_paths(raw_dir: Path | None, warehouse_dir: Path | None) -> None:
    """Raise PathProblem for the first path that cannot serve a run."""
    problems = ([warehouse_dir_problem(warehouse_dir)] if warehouse_dir is not None else []) + \
               ([raw_root_problem(raw_dir)] if raw_dir is not None else [])
    for problem in problems:
        if problem:
            raise PathProblem(problem)


def parse_share(value: str | float) -> float:
    """A share of articles: 0.2, or "20%"; ValueError outside 0 to 1."""
    text = str(value).strip()
    share = float(text[:-1]) / 100 if text.endswith("%") else float(text)
    if not 0 <= share <= 1:
        raise ValueError(f"a share of deleted articles must lie between 0 and 1 (or 0% and 100%), not {value}")
    return share


def articles_removed(previous_sources: Iterable[tuple[str, str]],
                     current_paths: Collection[str], text_gone: Collection[str] | None = None) -> tuple[int, int]:
    """(articles whose every source path is gone from the raw dir, published articles), from
    the published ledger's (source_path, article_id) rows. An edited file keeps its path, so
    its article is replaced, not removed; an article whose text is still held by another
    path (renamed, gzip'd) is not in ``text_gone`` (the plan's removed_article_ids), so kept."""
    paths_of: dict[str, list[str]] = defaultdict(list)
    for path, article_id in previous_sources:
        paths_of[article_id].append(path)
    gone = sum(1 for article_id, paths in paths_of.items()
               if not any(path in current_paths for path in paths)
               and (text_gone is None or article_id in text_gone))
    return gone, len(paths_of)


def deletion_refusal(removed: int, published: int, max_share: float, allow_deletions: bool,
                     raw_dir: Path | str) -> str | None:
    """The one-line refusal for a plan removing ``removed`` of ``published`` articles, or None
    when it may go ahead. A first run (nothing published) removes nothing, so it always may."""
    if allow_deletions or removed == 0 or published == 0:
        return None
    if removed == published:
        return (f"refused: this run would remove all {published} articles of the warehouse "
                f"(raw folder {raw_dir} holds none of their files); {ALLOW_HINT}")
    if removed / published > max_share:
        return (f"refused: this run would remove {removed} of {published} articles ({removed / published:.0%}), "
                f"more than the {max_share:.0%} allowed (--max-delete-share, QUOTEWIRE_MAX_DELETE_SHARE); "
                f"{ALLOW_HINT}")
    return None
