from pathlib import Path

import pytest
from pydantic import ValidationError

from shoal.agents import AgentSpec, Budget, load_agent_spec
from shoal.agents.prompting import read_prompt
from shoal.errors import ConfigError
from shoal.models import ChatOptions
from shoal.tools import FunctionTool, calculate


def test_yaml_and_python_give_the_same_spec(tmp_path: Path) -> None:
    (tmp_path / "calc.yaml").write_text(
        "name: calc\nmodel: pack:qwen2.5-coder-0.5b\nescalate_to: [pack:qwen2.5-coder-1.5b]\n"
        "instructions: Use the calculator.\ntools: ['shoal.tools:calculate']\n"
        "output: shoal.agents.library.extractor:Invoice\n"
        "options: {temperature: 0, max_tokens: 64}\nbudget: {max_seconds: 30}\n")
    from shoal.agents.library.extractor import Invoice

    python = AgentSpec(name="calc", model="pack:qwen2.5-coder-0.5b",
                       escalate_to=("pack:qwen2.5-coder-1.5b",),
                       instructions="Use the calculator.", tools=(FunctionTool(calculate),),
                       output=Invoice, options=ChatOptions(temperature=0, max_tokens=64),
                       budget=Budget(max_seconds=30))
    assert load_agent_spec(tmp_path / "calc.yaml") == python


@pytest.mark.parametrize(("body", "field"), [
    ("name: x\nmodel: gpt4\n", "model"),
    ("name: x\nmodel: fake:echo\noutput: nowhere.Thing\n", "output"),
    ("name: x\nmodel: fake:echo\nretries: -1\n", "retries"),
    ("name: x\nmodel: fake:echo\ntemperature: 0\n", "temperature"),
    ("name: x\nmodel: fake:echo\ninstructions: a\nprompt: b.md\n", "not both"),
])
def test_invalid_yaml_names_the_field(tmp_path: Path, body: str, field: str) -> None:
    (tmp_path / "x.yaml").write_text(body)
    with pytest.raises(ConfigError, match=field) as info:
        load_agent_spec(tmp_path / "x.yaml")
    assert str(tmp_path / "x.yaml") in info.value.message


def test_spec_is_frozen() -> None:
    spec: AgentSpec[str] = AgentSpec(name="a", model="fake:echo")
    with pytest.raises(ValidationError):
        spec.retries = 5  # type: ignore[misc]  # frozen


def test_prompt_files_resolve_from_path_or_package(tmp_path: Path) -> None:
    assert "JSON" in read_prompt("extractor.md")
    (tmp_path / "mine.md").write_text("Be brief.\n")
    assert read_prompt(str(tmp_path / "mine.md")) == "Be brief."
    with pytest.raises(ConfigError, match="not found"):
        read_prompt("nope.md")


def test_library_yaml_agents_are_the_pipeline_agents() -> None:
    """configs/agents/ names the Python factories, so `shoal agent run invoice_extractor` is
    the extractor ocr-to-sql uses."""
    from shoal.graphs.ocr_to_sql import ocr_to_sql_spec

    configs = Path(__file__).resolve().parents[2] / "configs" / "agents"
    assert load_agent_spec(configs / "invoice_extractor.yaml") == ocr_to_sql_spec()


def test_factory_yaml_errors_name_the_file(tmp_path: Path) -> None:
    (tmp_path / "x.yaml").write_text("factory: shoal.agents.library:extractor_spec\nbogus: 1\n")
    with pytest.raises(ConfigError, match=r"factory .*bogus") as info:
        load_agent_spec(tmp_path / "x.yaml")
    assert str(tmp_path / "x.yaml") in info.value.message
