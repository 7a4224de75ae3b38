"""Entry point for ``python -m tocsin``."""

from tocsin.cli.app import main

main()
