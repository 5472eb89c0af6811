"""The `shoal` command line."""

from shoal.cli.app import app, main

__all__ = ["app", "main"]
