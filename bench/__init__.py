"""`make bench`: the performance figures of DESIGN §12 for the import and the engine."""
