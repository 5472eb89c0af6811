"""`python -m shoal` runs the CLI."""

from shoal.cli.app import main

main()
