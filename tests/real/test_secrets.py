"""A backend's API key is sent to its server and nowhere else: not into the run ledger,
checkpoints or call records, not into logs, not into the HTTP service's answers, even when
the server echoes the key back in its error message. Every dump is grepped for it."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from shoal.service import KeyCheck, Service, ServiceConfig, hash_key
from shoal.service.app import create_app
from shoal.service.background import BackgroundServer
from shoal.session import Session
from shoal.settings import load_settings

SECRET = "sk-test-NEVER-STORE-0123456789abcdef"
SERVICE_KEY = "service-key-1"


def _completions(request: Request) -> Response:
    """An OpenAI-compatible server: a wrong key is echoed back in the 401 (as careless
    proxies do); the right one gets an answer."""
    if request.headers.get("Authorization") != f"Bearer {SECRET}":
        return Response(json.dumps({"error": {"message": "bad key"}}), status=401)
    if "please fail" in request.get_data(as_text=True):
        return Response(json.dumps({"error": {"message": f"Incorrect API key: {SECRET}"}}),
                        status=401, content_type="application/json")
    return Response(json.dumps({
        "id": "c1", "object": "chat.completion", "model": "m",
        "choices": [{"index": 0, "finish_reason": "stop",
                     "message": {"role": "assistant", "content": "fine"}}],
        "usage": {"prompt_tokens": 5, "completion_tokens": 1, "total_tokens": 6}}),
        content_type="application/json")


@pytest.fixture
def project(tmp_path: Path, httpserver: HTTPServer) -> Iterator[Path]:
    httpserver.expect_request("/v1/chat/completions", method="POST").respond_with_handler(
        _completions)
    agents, graphs = tmp_path / "configs" / "agents", tmp_path / "configs" / "graphs"
    agents.mkdir(parents=True)
    graphs.mkdir(parents=True)
    (agents / "remote.yaml").write_text(
        f"name: remote\nmodel: openai:{httpserver.url_for('/v1')}#m\ninstructions: Answer.\n"
        "cache: false\nretries: 0\n")
    (graphs / "remote_flow.yaml").write_text(
        "name: remote_flow\nnodes:\n  ask: {agent: remote}\nedges:\n"
        "  - {from: START, to: ask}\n  - {from: ask, to: END}\n")
    yield tmp_path


def test_the_key_reaches_the_server_and_nothing_else(project: Path, httpserver: HTTPServer,
                                                     caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    settings = load_settings(database_url=f"sqlite:///{project / 'shoal.db'}",
                             project_dir=project, openai_api_key=SECRET,
                             api_key_hashes=(hash_key(SERVICE_KEY),))
    service = Service(ServiceConfig(db_url=f"sqlite:///{project / 'docs.db'}"),
                      Session(settings))
    answers = []
    headers = {"Authorization": f"Bearer {SERVICE_KEY}"}
    with BackgroundServer(create_app(service, KeyCheck.from_settings(
            settings, host="127.0.0.1"))) as server:
        ok = httpx.post(f"{server.url}/v1/agents/remote/invoke", headers=headers,
                        json={"input": "hello"})
        assert ok.status_code == 200 and ok.json()["output"] == "fine"  # the key was sent
        failed = httpx.post(f"{server.url}/v1/agents/remote/invoke", headers=headers,
                            json={"input": "please fail"})
        assert failed.status_code == 503 and "[redacted]" in failed.json()["error"]["message"]
        flow = httpx.post(f"{server.url}/v1/graphs/remote_flow/runs", headers=headers,
                          json={"input": "please fail"})
        assert flow.status_code == 503
        runs = httpx.get(f"{server.url}/v1/runs", headers=headers)
        answers = [ok.text, failed.text, flow.text, runs.text,
                   *(httpx.get(f"{server.url}/v1/runs/{r['id']}", headers=headers).text
                     for r in runs.json())]
        assert any("Incorrect API key" in a for a in answers)  # the errors are recorded
    dumps = b"".join(p.read_bytes() for p in sorted(project.glob("shoal*")))
    assert b"Incorrect API key: [redacted]" in dumps  # the ledger kept the redacted error
    assert SECRET.encode() not in dumps  # memory database, WAL, checkpoints
    assert all(SECRET not in a for a in answers)
    assert SECRET not in caplog.text
