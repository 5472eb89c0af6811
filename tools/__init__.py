"""shoal.tools: tools built on the Shoal kernel (filled in by later work)."""

# Installed as shoal.tools only: a top-level 'tools' package would clash with other libraries.
if __name__ != "shoal.tools":
    raise ImportError(f"import shoal.tools, not {__name__} (no top-level 'tools' package)")

__all__: list[str] = []
