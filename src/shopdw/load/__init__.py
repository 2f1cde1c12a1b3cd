"""Exactly-once loading of lake files into the warehouse: discover, validate, load.

from shopdw.load import load
result = load(settings, run_id=None, progress=True, until=None)   # -> LoadResult
result.exit_code   # 1 if any file was rejected, else 0
result.render()    # rich table;  result.to_dict() for machines
"""

from shopdw.load.runner import FileOutcome, LoadResult, load, new_run_id

__all__ = ["FileOutcome", "LoadResult", "load", "new_run_id"]
