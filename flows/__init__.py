"""quotewire: raw news articles -> article, paragraph, quote and entity tables -> DuckDB marts."""

__version__ = "0.1.0"
