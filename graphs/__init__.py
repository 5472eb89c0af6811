"""shoal.graphs: graphs built on the Shoal kernel (filled in by later work)."""

# Installed as shoal.graphs only: a top-level 'graphs' package would clash with other libraries.
if __name__ != "shoal.graphs":
    raise ImportError(f"import shoal.graphs, not {__name__} (no top-level 'graphs' package)")

__all__: list[str] = []
