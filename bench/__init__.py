"""Benchmarks: one command (`python3 dev.py bench`), a printed table, JSON in bench/results/."""
