"""The tool-use loop for small models.

Two ways to ask for tool calls:
- native: the backend's tool calling (the model emits calls the server parses);
- action: a constrained JSON "action" output, a union of one object per tool
  (`{"tool": name, "arguments": {...}}`) and `{"final_answer": ...}`, so every step is a valid
  call or a valid answer even for a model whose native tool calling is unreliable.
`auto` uses native only where the session's probe report (`shoal models probe`) found
well-formed native calls; the mode used is recorded in the AgentResult.
Tool errors, bad arguments and invalid answers go back to the model as observations.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from shoal.agents.repair import judge
from shoal.agents.result import AttemptLog, ToolMode, ToolStep
from shoal.agents.spec import AgentSpec
from shoal.agents.validation import OutputPlan, output_plan
from shoal.models import ChatRequest, Message, ToolCall
from shoal.models.probe import ProbeReport
from shoal.tools import FunctionTool, ToolArgumentsError

if TYPE_CHECKING:
    from shoal.agents.agent import Agent

__all__ = ["StepsExhausted", "action_schema", "run_tool_loop", "tool_mode"]
_MAX_OBSERVATION = 2000
_NEXT = ('If this answers the question, reply {"final_answer": ...} now; '
         "otherwise call a tool with different arguments.")


class StepsExhausted(Exception):
    """The model used max_steps without giving a valid final answer."""


def tool_mode(spec: AgentSpec[Any], probe: ProbeReport | None) -> ToolMode:
    """The spec's mode; for `auto`, native only if the model's probe found it reliable."""
    if spec.tool_mode != "auto":
        return spec.tool_mode
    return "native" if probe is not None and probe.native_tool_calls else "action"


def action_schema(tools: tuple[FunctionTool, ...], answer: dict[str, Any] | None
                  ) -> dict[str, Any]:
    """One JSON schema admitting exactly: a call of one tool with valid arguments, or a final
    answer of the output's schema. With no tools: the final answer only."""
    defs: dict[str, Any] = {}
    options = []
    for tool in tools:
        parameters: dict[str, Any] = dict(tool.spec.parameters)
        defs.update(parameters.pop("$defs", {}))
        options.append({"type": "object",
                        "properties": {"tool": {"const": tool.name}, "arguments": parameters},
                        "required": ["tool", "arguments"], "additionalProperties": False})
    final: dict[str, Any] = dict(answer) if answer is not None else {"type": "string"}
    defs.update(final.pop("$defs", {}))
    options.append({"type": "object", "properties": {"final_answer": final},
                    "required": ["final_answer"], "additionalProperties": False})
    schema: dict[str, Any] = {"anyOf": options}
    if defs:
        schema["$defs"] = defs
    return schema


def _action_instructions(tools: tuple[FunctionTool, ...]) -> str:
    lines = ["You can use tools. Reply with one JSON object per turn: either",
             '{"tool": "<name>", "arguments": {...}} to call a tool, or',
             '{"final_answer": ...} once you know the answer.',
             "Tool results come back as messages starting with 'Observation'.", "Tools:"]
    for tool in tools:
        params = ", ".join(f"{name}: {node.get('type', 'any')}" for name, node in
                           tool.spec.parameters.get("properties", {}).items())
        lines.append(f"- {tool.name}({params}): {tool.description}")
    return "\n".join(lines)


async def _execute(tools: tuple[FunctionTool, ...], name: str, arguments: dict[str, Any],
                   log: AttemptLog) -> str:
    """Run one tool call; whatever goes wrong becomes the observation, not an exception."""
    by_name = {t.name: t for t in tools}
    failed = True
    if name not in by_name:
        observation = f"error: no tool named {name!r}; use one of {', '.join(by_name)}"
    else:
        try:
            result = await by_name[name].call(arguments)
            observation = result if isinstance(result, str) else json.dumps(result, default=str)
            failed = False
        except ToolArgumentsError as exc:
            observation = f"error: {exc}"
        except Exception as exc:  # a tool's failure is information for the model
            observation = f"error: {name} failed: {type(exc).__name__}: {exc}"
    observation = observation[:_MAX_OBSERVATION]
    log.steps.append(ToolStep(name, arguments, observation, failed))
    return observation


def _with_source(plan: OutputPlan, observation: str) -> OutputPlan:
    """Tool results are sources too: grounded output fields may take values from them."""
    return output_plan(plan.spec, f"{plan.text}\n{observation}")


async def run_tool_loop(agent: Agent[Any], uri: str, mode: ToolMode, plan: OutputPlan,
                        messages: list[Message], log: AttemptLog) -> Any:
    """Steps until a valid final answer; raises StepsExhausted after spec.max_steps calls.
    Grounded output fields may take values from the input or from any tool observation."""
    spec = agent.spec
    conversation = list(messages)
    schema = None
    if mode == "action":
        schema = action_schema(spec.tools, plan.schema)
        system = _action_instructions(spec.tools)
        if conversation and conversation[0].role == "system":
            system = f"{conversation[0].content}\n\n{system}"
            conversation = conversation[1:]
        conversation.insert(0, Message.system(system))
    tools = tuple(t.spec for t in spec.tools) if mode == "native" else ()
    for step in range(spec.max_steps):
        log.check_budget()
        last = step == spec.max_steps - 1
        if mode == "action" and last:  # the last step may only answer: small models loop
            schema = action_schema((), plan.schema)
        request = ChatRequest(messages=tuple(conversation), output_schema=schema,
                              tools=() if last else tools, options=spec.options)
        response = await agent.call(uri, request, log.on_token)
        if mode == "native" and response.tool_calls:
            log.record(uri, response.usage, response.text)
            conversation.append(Message.assistant(response.text, response.tool_calls))
            for call in response.tool_calls:
                observation = await _execute(spec.tools, call.name, call.arguments, log)
                plan = _with_source(plan, observation)
                conversation.append(Message.tool(observation, call=call))
            continue
        answer = response.text
        if mode == "action":
            try:
                action = json.loads(response.text)
            except json.JSONDecodeError:
                action = {}
            if isinstance(action, dict) and "tool" in action:
                log.record(uri, response.usage, response.text)
                call = ToolCall(id=f"step{len(log.steps)}", name=str(action["tool"]),
                                arguments=dict(action.get("arguments") or {}))
                observation = await _execute(spec.tools, call.name, call.arguments, log)
                plan = _with_source(plan, observation)
                schema = action_schema(spec.tools, plan.schema)
                conversation += [Message.assistant(response.text), Message.user(
                    f"Observation from {call.name}: {observation}\n{_NEXT}")]
                continue
            final = action.get("final_answer") if isinstance(action, dict) else None
            answer = final if isinstance(final, str) else json.dumps(final)
        verdict = await judge(plan, answer, response, uri, log, conversation)
        if verdict.accepted:
            return verdict.output
    raise StepsExhausted(f"no final answer within {spec.max_steps} steps")
