"""Accuracy and speed: quote evaluation against gold files, throughput benchmarks."""
