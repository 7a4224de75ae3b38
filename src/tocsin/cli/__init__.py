"""Command line adapter (Typer)."""
