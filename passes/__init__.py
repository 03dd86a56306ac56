"""t2m passes: one ModulePass per file."""
