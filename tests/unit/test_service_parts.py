"""The service's parts without a server: the bounded queue, API keys, error codes, the
graph diagram."""

from __future__ import annotations

import asyncio

import pytest
from pydantic import SecretStr

from shoal.errors import AuthError, ConfigError, InputError, ModelTimeout, ServiceBusy
from shoal.graphs import pipeline, step
from shoal.service import Gate, KeyCheck, hash_key
from shoal.service.app import error_code, error_response
from shoal.service.diagram import graph_svg
from shoal.settings import Settings


async def test_a_gate_runs_one_queues_the_bound_and_refuses_the_rest() -> None:
    gate = Gate("m", running=1, waiting=1)
    release = asyncio.Event()
    order: list[str] = []

    async def use(name: str) -> None:
        async with gate.admit():
            order.append(name)
            await release.wait()

    first = asyncio.create_task(use("first"))
    second = asyncio.create_task(use("second"))
    await asyncio.sleep(0.01)
    assert gate.inside == 2 and order == ["first"]
    with pytest.raises(ServiceBusy) as refused:
        async with gate.admit():
            pass
    assert refused.value.retry_after >= 1 and "1 running and 1 waiting" in refused.value.message
    release.set()
    await asyncio.gather(first, second)
    assert order == ["first", "second"] and gate.inside == 0 and gate.refused == 1


def _settings(**fields: object) -> Settings:
    return Settings.model_validate({"database_url": "sqlite://", **fields})


def test_keys_are_checked_by_digest_from_either_header() -> None:
    keys = KeyCheck.from_settings(_settings(api_keys=SecretStr("a1, b2"),
                                            api_key_hashes=(hash_key("c3"),)), host="0.0.0.0")
    for header in ({"authorization": "Bearer a1"}, {"authorization": "bearer b2"},
                   {"api_key": "c3"}):
        keys.check(header.get("authorization"), header.get("api_key"))
    with pytest.raises(AuthError, match="no API key"):
        keys.check(None, None)
    with pytest.raises(AuthError, match="not accepted"):
        keys.check("Bearer a1x", None)
    with pytest.raises(AuthError):
        keys.check("Basic a1", None)


def test_a_service_without_keys_or_open_to_the_network_is_refused() -> None:
    with pytest.raises(ConfigError, match="no API key") as missing:
        KeyCheck.from_settings(_settings(), host="127.0.0.1")
    assert "SHOAL_API_KEYS" in (missing.value.fix or "")
    with pytest.raises(ConfigError, match="anyone on the network"):
        KeyCheck.from_settings(_settings(), host="0.0.0.0", no_auth=True)
    assert not KeyCheck.from_settings(_settings(), host="::1", no_auth=True).required
    with pytest.raises(ConfigError, match="not a sha256"):
        KeyCheck.from_settings(_settings(api_key_hashes=("my-plain-key",)), host="127.0.0.1")


def test_errors_map_to_statuses_and_stable_codes() -> None:
    busy = error_response(ServiceBusy("full", retry_after=7))
    assert busy.status_code == 429 and busy.headers["retry-after"] == "7"
    assert error_response(InputError("bad", source="x")).status_code == 400
    assert error_response(ModelTimeout("slow", model="m", seconds=1, setting="t")
                          ).status_code == 504
    assert error_code(ServiceBusy("full", retry_after=1)) == "service_busy"
    assert error_code(AuthError("no")) == "auth_error"


def test_the_diagram_draws_every_node_and_edge_with_the_end_last() -> None:
    graph = pipeline(step(lambda v: v, name="a"), step(lambda v: v, name="b")).compile()
    svg = graph_svg(graph.get_graph())
    assert svg.startswith("<svg") and svg.count("<line") == 3
    for node in ("__start__", "a", "b", "__end__"):
        assert f'data-node="{node}"' in svg
    positions = {n: svg.index(f'data-node="{n}"') for n in ("a", "__end__")}
    end_y = float(svg[positions["__end__"]:].split('y="')[1].split('"')[0])
    a_y = float(svg[positions["a"]:].split('y="')[1].split('"')[0])
    assert end_y > a_y
