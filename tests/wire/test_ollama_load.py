"""The Ollama backend against a server that behaves as Ollama does under load (the shipped
FakeOllama on loopback): a per-host bound on requests in flight, retries of busy (503) and
dropped calls with jittered backoff, a longer timeout for a model's first (loading) call, and
clear errors for the rest."""

from __future__ import annotations

import asyncio
import random
from pathlib import Path
from typing import Any

import pytest

from shoal.agents import Agent, AgentSpec
from shoal.errors import ModelResponseError, ModelTimeout, ModelUnavailable
from shoal.models import ChatRequest, Message
from shoal.models.fake_ollama import FakeOllama, FakeOllamaBehaviour
from shoal.models.ollama import OllamaChatModel
from shoal.models.retry import HostLimits, RetryPolicy
from shoal.session import Session
from shoal.settings import load_settings

REQUEST = ChatRequest(messages=(Message.user("hi"),))


def _model(server: FakeOllama, *, per_host: int = 4, attempts: int = 6, timeout: float = 30,
           load_timeout: float | None = None, limits: HostLimits | None = None
           ) -> OllamaChatModel:
    return OllamaChatModel("qwen2.5-coder:0.5b", host=server.url, num_ctx=2048,
                           timeout=timeout, load_timeout=load_timeout,
                           limits=limits or HostLimits(per_host),
                           retry=RetryPolicy(attempts=attempts, base_seconds=0.02,
                                             cap_seconds=0.2, rng=random.Random(7)))


async def _runs(tmp_path: Path, server: FakeOllama, count: int, **settings: Any
                ) -> list[Any]:
    spec: AgentSpec[Any] = AgentSpec(name="reply", model="ollama:qwen2.5-coder:0.5b",
                                     instructions="Reply.", cache=False, retries=0)
    config = load_settings(ollama_host=server.url, database_url=f"sqlite:///{tmp_path}/m.db",
                           ollama_models_dir=tmp_path / "no-store", **settings)
    async with Session(config) as session:
        model = session.model("ollama:qwen2.5-coder:0.5b")
        assert isinstance(model, OllamaChatModel)
        model._retry = RetryPolicy(attempts=config.retry_attempts, base_seconds=0.02,
                                   cap_seconds=0.2, rng=random.Random(3))
        agent = Agent(spec, session=session)
        results: list[Any] = await asyncio.gather(
            *(agent.run(f"message {i}") for i in range(count)), return_exceptions=True)
        return results


async def test_at_four_times_capacity_every_run_succeeds_without_extra_attempts(
        tmp_path: Path) -> None:
    behaviour = FakeOllamaBehaviour(parallel=1, max_queue=3, seconds=0.01)  # capacity 4
    with FakeOllama(behaviour) as server:
        results = await _runs(tmp_path, server, 16, host_max_parallel=4)
    failed = [r for r in results if isinstance(r, BaseException)]
    assert failed == []
    assert server.counts.requests == 16 and server.counts.busy == 0
    waits = [r.usage.queue_seconds for r in results]
    assert max(waits) > 0  # the ones that queued say how long


async def test_busy_answers_are_retried_until_every_run_succeeds(tmp_path: Path) -> None:
    behaviour = FakeOllamaBehaviour(parallel=1, max_queue=1, seconds=0.01)  # capacity 2
    with FakeOllama(behaviour) as server:
        results = await _runs(tmp_path, server, 8, host_max_parallel=4, retry_attempts=20)
    assert [r for r in results if isinstance(r, BaseException)] == []
    assert server.counts.busy > 0  # the server refused some: they were retried
    assert server.counts.requests == server.counts.answered + server.counts.busy
    assert sum(r.usage.retries for r in results) == server.counts.busy


async def test_when_retries_run_out_the_busy_error_says_what_to_do() -> None:
    behaviour = FakeOllamaBehaviour(parallel=1, max_queue=0, seconds=0.3)
    with FakeOllama(behaviour) as server:
        model = _model(server, per_host=8, attempts=2)
        results = await asyncio.gather(*(model.chat(REQUEST) for _ in range(3)),
                                       return_exceptions=True)
        await model.aclose()
    errors = [r for r in results if isinstance(r, ModelUnavailable)]
    assert errors and len(errors) == sum(isinstance(r, BaseException) for r in results)
    assert "busy (503)" in str(errors[0]) and "OLLAMA_NUM_PARALLEL" in (errors[0].fix or "")


async def test_a_dropped_answer_is_retried() -> None:
    with FakeOllama(FakeOllamaBehaviour(drop_every=2)) as server:
        model = _model(server)
        answers = [await model.chat(REQUEST) for _ in range(3)]
        await model.aclose()
    assert server.counts.dropped == 2 and server.counts.requests == 5  # requests 2 and 4
    assert [a.usage.retries for a in answers] == [0, 1, 1]
    assert [a.text for a in answers] == ["answer 1", "answer 3", "answer 5"]


async def test_a_malformed_answer_fails_at_once_with_a_fix() -> None:
    with FakeOllama(FakeOllamaBehaviour(malformed_every=1)) as server:
        model = _model(server)
        with pytest.raises(ModelResponseError) as caught:
            await model.chat(REQUEST)
        await model.aclose()
    assert server.counts.requests == 1  # not retried: another try would read the same
    assert "not the expected JSON" in caught.value.message and caught.value.fix


async def test_the_first_call_may_take_the_load_timeout_later_ones_may_not() -> None:
    behaviour = FakeOllamaBehaviour(first_load_seconds=1.0, seconds=0.01)
    with FakeOllama(behaviour) as server:
        model = _model(server, timeout=0.5, load_timeout=5)
        first = await model.chat(REQUEST)  # 1 s: within the load timeout
        assert first.text == "answer 1"
        cold = _model(server, timeout=0.5, load_timeout=5)
        assert (await cold.chat(REQUEST)).text == "answer 2"  # the server has it loaded
        await model.aclose()
        await cold.aclose()
    with FakeOllama(FakeOllamaBehaviour(first_load_seconds=1.0)) as server:
        strict = _model(server, timeout=0.3, load_timeout=0.3, attempts=1)
        with pytest.raises(ModelTimeout) as caught:
            await strict.chat(REQUEST)
        await strict.aclose()
    assert "SHOAL_REQUEST_TIMEOUT" in (caught.value.fix or "")


async def test_a_stream_dropped_mid_answer_is_a_clear_error() -> None:
    with FakeOllama(FakeOllamaBehaviour(drop_every=1)) as server:
        model = _model(server)
        with pytest.raises(ModelResponseError) as caught:
            async for _ in model.stream(REQUEST):
                pass
        await model.aclose()
    assert caught.value.fix
