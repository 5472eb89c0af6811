"""A real `shoal serve` app on a loopback port over shipped fake models and real OCR, for the
HTTP, MCP and dashboard tests: agents and graphs in a project folder, a memory database and a
documents database in tmp_path."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from shoal.models import ChatRequest, FakeChatModel, FunctionChatModel
from shoal.service import KeyCheck, Service, ServiceConfig, hash_key
from shoal.service.app import create_app
from shoal.service.background import BackgroundServer
from shoal.session import Session
from shoal.settings import load_settings

KEY = "test-key-1"
KIOSK = ("Kiosk Nord", "Latte 3.50", "Bun 2.25", "Total kr 5.75")  # kr: SEK, NOK, DKK, ISK?

AGENTS = {
    "router": """name: router
description: labels a support message
model: fake:router
instructions: Label the message.
output: {type: object, properties: {label: {enum: [billing, other]}}, required: [label]}
""",
    "replier": """name: replier
description: writes a one-line reply
model: fake:replier
instructions: Reply in one line.
""",
    "slow": """name: slow
description: answers once the test lets it
model: fake:slow
instructions: Answer.
""",
}
_TRIAGE = """nodes:
  classify: {agent: router}
  reply: {agent: replier}
edges:
  - {from: START, to: classify}
  - {from: classify, to: reply}
  - {from: reply, to: END}
"""
GRAPHS = {  # the same graph, and the same waiting for a person before its reply
    "triage": "name: triage\n" + _TRIAGE,
    "approved_reply": "name: approved_reply\n" + _TRIAGE + "interrupt_before: [reply]\n",
}


def kiosk_receipt(path: Path) -> Path:
    """A clean PNG of the kiosk receipt, for real OCR."""
    font = ImageFont.load_default(size=30)
    image = Image.new("RGB", (520, 60 + 48 * len(KIOSK)), "white")
    draw = ImageDraw.Draw(image)
    for i, line in enumerate(KIOSK):
        draw.text((30, 30 + 48 * i), line, fill="black", font=font)
    image.save(path)
    return path


def _extract(request: ChatRequest) -> str:
    return json.dumps({"vendor": "Kiosk Nord", "total": "5.75"})


@dataclass
class Served:
    url: str
    service: Service
    docs_db: Path
    memory_db: Path
    release: threading.Event  # lets the `slow` agent's model answer
    headers: dict[str, str] = field(default_factory=lambda: {"Authorization": f"Bearer {KEY}"})


def serve(tmp_path: Path, *, running: int = 1, waiting: int = 8,
          max_body_bytes: int = 20 * 2**20) -> Iterator[Served]:
    """Start the app (a generator for a pytest fixture: yields once, stops the server)."""
    project = tmp_path / "project"
    for kind, files in (("agents", AGENTS), ("graphs", GRAPHS)):
        (project / "configs" / kind).mkdir(parents=True, exist_ok=True)
        for name, text in files.items():
            (project / "configs" / kind / f"{name}.yaml").write_text(text)
    release = threading.Event()

    async def slow(request: ChatRequest) -> str:
        await asyncio.to_thread(release.wait)  # set from the test's thread
        return "done"

    models = {
        "fake:router": FunctionChatModel(lambda r: '{"label": "billing"}', name="fake:router"),
        "fake:replier": FunctionChatModel(lambda r: "We refund it today.", name="fake:replier"),
        "fake:slow": FunctionChatModel(slow, name="fake:slow"),
        "fake:extractor": FunctionChatModel(_extract, name="fake:extractor"),
        # the extractor's escalation target: never called when the fake answers validly
        "pack:qwen2.5-coder-1.5b": FakeChatModel([], name="pack:qwen2.5-coder-1.5b"),
    }
    memory, docs = tmp_path / "memory.db", tmp_path / "docs.db"
    settings = load_settings(database_url=f"sqlite:///{memory}", project_dir=project,
                             default_model="fake:extractor", api_key_hashes=(hash_key(KEY),))
    service = Service(ServiceConfig(db_url=f"sqlite:///{docs}", running=running,
                                    waiting=waiting, max_body_bytes=max_body_bytes),
                      Session(settings, models=models))
    keys = KeyCheck.from_settings(settings, host="127.0.0.1")
    with BackgroundServer(create_app(service, keys)) as server:
        yield Served(server.url, service, docs, memory, release)
    release.set()
