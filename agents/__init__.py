"""shoal.agents: small-model specialists with validated structured output, grounding,
tools and escalation."""

# Installed as shoal.agents only: a top-level 'agents' package would clash with other libraries.
if __name__ != "shoal.agents":
    raise ImportError(f"import shoal.agents, not {__name__} (no top-level 'agents' package)")

from shoal.agents.agent import Agent
from shoal.agents.grounding import Grounded, GroundedAmount
from shoal.agents.result import AgentResult, OnToken, ToolStep
from shoal.agents.spec import AgentSpec, Budget, Example, load_agent_spec
from shoal.models import Attempt

__all__ = [
    "Agent",
    "AgentResult",
    "AgentSpec",
    "Attempt",
    "Budget",
    "Example",
    "Grounded",
    "GroundedAmount",
    "OnToken",
    "ToolStep",
    "load_agent_spec",
]
