"""A stand-in HTTP server that behaves as Ollama does under load, for tests and benchmarks of
the Ollama backend (never a demo: it generates nothing). It answers /api/chat in Ollama's
documented shape, runs `parallel` requests at once, lets `max_queue` more wait, and answers
503 "server busy" beyond that (OLLAMA_NUM_PARALLEL, OLLAMA_MAX_QUEUE); it can be slow on a
model's first request (the load), drop a connection mid-answer, or send a body that is not JSON.

    with FakeOllama(FakeOllamaBehaviour(parallel=1, max_queue=3)) as server:
        settings = load_settings(ollama_host=server.url)
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

__all__ = ["BUSY", "FakeOllama", "FakeOllamaBehaviour"]

BUSY = "server busy, please try again.  maximum pending requests exceeded"  # Ollama's words


@dataclass(frozen=True)
class FakeOllamaBehaviour:
    parallel: int = 1  # requests answered at once
    max_queue: int = 3  # requests that may wait; one more gets 503
    seconds: float = 0.02  # to answer one request
    first_load_seconds: float = 0.0  # extra, on a model's first request
    drop_every: int = 0  # every n-th request: the connection closes mid-answer
    malformed_every: int = 0  # every n-th request: 200 with a body that is not JSON


@dataclass
class Counts:
    requests: int = 0
    busy: int = 0
    dropped: int = 0
    malformed: int = 0
    answered: int = 0


class FakeOllama:
    def __init__(self, behaviour: FakeOllamaBehaviour | None = None) -> None:
        self.behaviour = behaviour or FakeOllamaBehaviour()
        self.counts = Counts()
        self._lock = threading.Lock()
        self._inside = 0
        self._slots = threading.Semaphore(self.behaviour.parallel)
        self._loaded: set[str] = set()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> FakeOllama:
        self._thread.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _admit(self) -> tuple[int, bool]:
        """The request's number, and whether it may wait (False: the queue is full)."""
        with self._lock:
            self.counts.requests += 1
            number = self.counts.requests
            if self._inside >= self.behaviour.parallel + self.behaviour.max_queue:
                self.counts.busy += 1
                return number, False
            self._inside += 1
            return number, True

    def _work(self, model: str) -> None:
        with self._slots:
            with self._lock:
                first = model not in self._loaded
                self._loaded.add(model)
            time.sleep(self.behaviour.seconds + (self.behaviour.first_load_seconds
                                                 if first else 0.0))

    def _leave(self) -> None:
        with self._lock:
            self._inside -= 1

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                """Quiet."""

            def _send(self, status: int, data: bytes, kind: str = "application/json",
                      cut: bool = False) -> None:
                """`cut`: announce the whole body, send half of it, close the connection."""
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data[: len(data) // 2] if cut else data)
                self.close_connection = cut

            def _json(self, status: int, body: Any) -> None:
                self._send(status, json.dumps(body).encode())

            def do_POST(self) -> None:
                request = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                if self.path != "/api/chat":
                    self._json(404, {"error": f"no route {self.path}"})
                    return
                number, admitted = fake._admit()
                if not admitted:
                    self._json(503, {"error": BUSY})
                    return
                try:
                    fake._work(request["model"])
                    self._answer(request, number)
                finally:
                    fake._leave()

            def _answer(self, request: dict[str, Any], number: int) -> None:
                behaviour = fake.behaviour
                reply = _reply(request["model"], f"answer {number}")
                if behaviour.drop_every and number % behaviour.drop_every == 0:
                    with fake._lock:
                        fake.counts.dropped += 1
                    self._send(200, json.dumps(reply).encode(), cut=True)
                    return
                if behaviour.malformed_every and number % behaviour.malformed_every == 0:
                    with fake._lock:
                        fake.counts.malformed += 1
                    self._send(200, b'{"model": "' + request["model"].encode() + b'", "mess')
                    return
                with fake._lock:
                    fake.counts.answered += 1
                if request.get("stream", True):
                    lines = [_chunk(request["model"], "answer "),
                             _reply(request["model"], str(number))]
                    self._send(200, b"".join(json.dumps(line).encode() + b"\n"
                                             for line in lines), "application/x-ndjson")
                    return
                self._json(200, reply)

        return Handler


def _chunk(model: str, text: str) -> dict[str, Any]:
    return {"model": model, "created_at": "2026-12-04T00:00:00Z",
            "message": {"role": "assistant", "content": text}, "done": False}


def _reply(model: str, text: str) -> dict[str, Any]:
    return {"model": model, "created_at": "2026-12-04T00:00:00Z",
            "message": {"role": "assistant", "content": text}, "done_reason": "stop",
            "done": True, "total_duration": 20_000_000, "load_duration": 1_000_000,
            "prompt_eval_count": 12, "prompt_eval_duration": 5_000_000, "eval_count": 3,
            "eval_duration": 10_000_000}
