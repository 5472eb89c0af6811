import pytest

from shoal.errors import ConfigError
from shoal.models import ChatRequest, FakeChatModel, Message, open_model
from shoal.session import Session
from shoal.settings import Settings


@pytest.mark.parametrize("uri", ["qwen", "pack:", "http://x", "llama:foo", ""])
def test_malformed_uris_say_which_schemes_exist(uri: str, isolated_settings: Settings) -> None:
    with pytest.raises(ConfigError, match="pack:…, gguf:…, ollama:…, openai:…, fake:…"):
        open_model(uri, isolated_settings)


def test_unknown_pack_lists_the_known_ones(isolated_settings: Settings) -> None:
    with pytest.raises(ConfigError, match=r"qwen2\.5-coder-0\.5b"):
        open_model("pack:gpt-5", isolated_settings)


def test_openai_uri_needs_base_url_and_model(isolated_settings: Settings) -> None:
    with pytest.raises(ConfigError, match="after '#'"):
        open_model("openai:http://127.0.0.1:8080/v1", isolated_settings)
    model = open_model("openai:http://127.0.0.1:8080/v1/#qwen", isolated_settings)
    assert model.name == "openai:http://127.0.0.1:8080/v1#qwen"


def test_opening_does_no_io(isolated_settings: Settings) -> None:
    for uri in ("pack:qwen2.5-coder-0.5b", "gguf:/nowhere/model.gguf", "ollama:qwen2.5:0.5b"):
        assert open_model(uri, isolated_settings).name == uri
    assert not (isolated_settings.cache_dir).exists()  # nothing assembled yet


async def test_fake_uris(isolated_settings: Settings) -> None:
    echo = open_model("fake:echo", isolated_settings)
    reply = await echo.chat(ChatRequest(messages=(Message.user("ping"),)))
    assert reply.text == "ping"
    scripted = FakeChatModel(["pong"])
    async with Session(isolated_settings, models={"fake:table-tennis": scripted}) as session:
        assert session.model("fake:table-tennis") is scripted
    with pytest.raises(ConfigError, match=r"Session\(models="):
        open_model("fake:table-tennis", isolated_settings)
