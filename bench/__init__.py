"""`make bench`: the performance figures of README, Benchmarks for the import and the engine."""
