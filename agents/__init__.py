"""shoal.agents: agents built on the Shoal kernel (filled in by later work)."""

# Installed as shoal.agents only: a top-level 'agents' package would clash with other libraries.
if __name__ != "shoal.agents":
    raise ImportError(f"import shoal.agents, not {__name__} (no top-level 'agents' package)")

__all__: list[str] = []
