"""Analysed articles -> Arrow tables (schemas are the contract) -> atomic Parquet snapshots."""
