"""Data generators of the retrieval benchmarks."""
