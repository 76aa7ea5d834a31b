"""Where and how batches run: worker processes, Dask, the temporary Prefect server, process tuning."""
