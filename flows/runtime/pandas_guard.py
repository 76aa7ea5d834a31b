"""Keep pandas out of the processes of a run.

Nothing in a run uses pandas (it is there for analysts), yet pyarrow imports it only to ask
whether some object is a DataFrame. With pandas refused, pyarrow takes it as not installed
and goes on (a ``sys.modules["pandas"] = None`` block instead breaks its check). Applied by
runtime/process.py (workers) and runners.one_off_run (the flow's process).
"""

from __future__ import annotations

import importlib.abc
import sys


class RefusePandas(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name == "pandas" or name.startswith("pandas."):
            raise ModuleNotFoundError(
                f"{name} is kept out of quotewire's run processes (quotewire.runtime.pandas_guard)", name=name)
        return None


def keep_pandas_out() -> None:
    """From now on, importing pandas in this process fails as if it were not installed;
    a no-op where pandas is already imported (someone uses it)."""
    if "pandas" in sys.modules or any(isinstance(finder, RefusePandas) for finder in sys.meta_path):
        return
    sys.meta_path.insert(0, RefusePandas())
