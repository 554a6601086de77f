"""Foundations: the error tree and problem codes, exact text and numbers, the one clock, atomic files and hashes, strict YAML, the zh/en catalog, every output file name.

Imports nothing else of kpi_lib."""
