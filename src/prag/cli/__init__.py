"""The `prag` command line: a thin layer over `prag.api`."""
