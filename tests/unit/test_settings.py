from pathlib import Path

import pytest

from shoal.errors import ConfigError
from shoal.settings import load_settings


@pytest.fixture(autouse=True)
def clean_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("SHOAL_CONFIG", "OLLAMA_HOST", "SHOAL_OLLAMA_HOST", "SHOAL_N_CTX"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)


def test_arguments_beat_environment_beat_config_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "shoal.toml").write_text('n_ctx = 1024\ndefault_model = "fake:echo"\n')
    assert load_settings().n_ctx == 1024
    assert load_settings().default_model == "fake:echo"
    monkeypatch.setenv("SHOAL_N_CTX", "2048")
    assert load_settings().n_ctx == 2048
    assert load_settings(n_ctx=512).n_ctx == 512


def test_ollama_host_honours_ollama_own_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    assert load_settings().ollama_host == "http://127.0.0.1:11434"
    monkeypatch.setenv("OLLAMA_HOST", "http://gpu-box:11434")
    assert load_settings().ollama_host == "http://gpu-box:11434"
    monkeypatch.setenv("SHOAL_OLLAMA_HOST", "http://other:1")
    assert load_settings().ollama_host == "http://other:1"


def test_invalid_values_name_the_field(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHOAL_N_CTX", "lots")
    with pytest.raises(ConfigError, match="n_ctx"):
        load_settings()


def test_unknown_config_key_and_bad_toml_are_config_errors(tmp_path: Path) -> None:
    (tmp_path / "shoal.toml").write_text("n_ctxx = 1\n")
    with pytest.raises(ConfigError, match="n_ctxx"):
        load_settings()
    (tmp_path / "shoal.toml").write_text("n_ctx = = 1\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_settings()


def test_missing_explicit_config_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHOAL_CONFIG", str(tmp_path / "nope.toml"))
    with pytest.raises(ConfigError, match="does not exist"):
        load_settings()
