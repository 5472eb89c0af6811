"""The README's test-double snippet runs as shown (argument order included)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from shoal.agents import Agent, AgentSpec
from shoal.session import Session
from shoal.settings import Settings

README = Path(__file__).resolve().parents[2] / "README.md"


def snippet_after(marker: str) -> str:
    text = README.read_text(encoding="utf-8")
    found = re.search(re.escape(marker) + r".*?```python\n(.*?)```", text, re.S)
    assert found, f"no python block after {marker!r} in the README"
    return found.group(1)


async def test_the_test_doubles_snippet_runs(isolated_settings: Settings) -> None:
    scope: dict[str, Any] = {"Session": Session, "settings": isolated_settings}
    exec(snippet_after("Shipped test doubles"), scope)  # our own documentation, not model output
    session: Session = scope["session"]
    labels = AgentSpec[Any](name="route", model="fake:router", instructions="Label it.",
                            output={"type": "object", "properties": {"label": {"type": "string"}},
                                    "required": ["label"]}, cache=False)
    copy = AgentSpec[Any](name="copy", model="fake:echo", instructions="Copy it.", cache=False)
    async with session:
        assert (await Agent(labels, session=session).run("I was charged twice")).output == {
            "label": "billing"}
        assert (await Agent(copy, session=session).run("hello there")).output == "hello there"
