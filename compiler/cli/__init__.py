"""t2m command-line tools."""
