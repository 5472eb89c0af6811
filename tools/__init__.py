"""shoal.tools: typed Python functions that agents may call, and ready tools."""

# Installed as shoal.tools only: a top-level 'tools' package would clash with other libraries.
if __name__ != "shoal.tools":
    raise ImportError(f"import shoal.tools, not {__name__} (no top-level 'tools' package)")

from shoal.tools.calculator import calculate
from shoal.tools.function import FunctionTool, ToolArgumentsError, tool

__all__ = ["FunctionTool", "ToolArgumentsError", "calculate", "tool"]
