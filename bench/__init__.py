"""Benchmarks for mlsd-mock: ``make bench`` runs them all (``python -m bench.run``).

Every figure is a ratio against a floor measured in the same run on the same machine,
because the machines here are shared and noisy. See ``docs/benchmarks.md``.
"""
