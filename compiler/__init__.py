"""t2m compiler: importer, interpreter, pipeline, backends and command-line tools."""
