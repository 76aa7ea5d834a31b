"""Parquet snapshot -> DuckDB staging views, data tests and marts (sql/)."""
