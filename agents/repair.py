"""The repair step, written once for the structured loop and the tool loop: check an answer;
if it is invalid, log why and put a repair turn in the conversation for the next call."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from shoal.agents.result import AttemptLog
from shoal.agents.validation import InvalidOutput, OutputPlan
from shoal.models import ChatResponse, Message

__all__ = ["Verdict", "judge", "repair_message"]

_MAX_PROBLEMS = 5


@dataclass(frozen=True)
class Verdict:
    accepted: bool
    output: Any = None


def repair_message(problems: list[str], plain_text: bool = False) -> str:
    shown = [p if len(p) <= 200 else p[:197] + "..." for p in problems[:_MAX_PROBLEMS]]
    more = f"\n(and {len(problems) - _MAX_PROBLEMS} more)" if len(problems) > _MAX_PROBLEMS else ""
    return ("Your answer was not valid:\n" + "\n".join(f"- {p}" for p in shown) + more
            + "\nAnswer again with the corrected "
            + ("answer" if plain_text else "JSON object") + " only.")


async def judge(plan: OutputPlan, answer: str, response: ChatResponse, uri: str,
                log: AttemptLog, conversation: list[Message]) -> Verdict:
    """Validate `answer` (the output part of `response`). Accepted: the attempt is logged as
    good. Rejected: the attempt is logged with its problems, the best partial output kept, and
    the model's reply plus a repair message appended to `conversation`."""
    try:
        output = await plan.parse(answer)
    except InvalidOutput as exc:
        log.record(uri, response.usage, response.text, "; ".join(exc.problems))
        if exc.partial is not None:
            log.partial = exc.partial
        conversation += [Message.assistant(response.text),
                         Message.user(repair_message(exc.problems,
                                                     plain_text=plan.spec.output is None))]
        return Verdict(False)
    log.record(uri, response.usage, response.text)
    return Verdict(True, output)
