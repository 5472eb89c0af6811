"""The CLI as a newcomer meets it: from an empty folder (the packaged defaults), and from deep
inside a project (its shoal.toml found above the working directory, its own agent types
imported from the project folder without PYTHONPATH). Real SQLite, no model packs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from shoal.errors import ConfigError
from shoal.settings import PACKAGED_CONFIGS

from .conftest import invoke


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Nothing of the developer's own setup: a fresh cache and ledger under tmp_path."""
    for name in ("SHOAL_CONFIG", "SHOAL_AGENTS_DIR", "SHOAL_GRAPHS_DIR", "SHOAL_PRICES_FILE",
                 "SHOAL_DEFAULT_MODEL"):
        monkeypatch.delenv(name, raising=False)
    return {"SHOAL_CACHE_DIR": str(tmp_path / "cache"),
            "SHOAL_DATABASE_URL": f"sqlite:///{tmp_path / 'ledger.db'}"}


def test_an_empty_folder_works_with_the_packaged_defaults(
        tmp_path: Path, env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    monkeypatch.chdir(empty)
    agents = invoke("agent", "list", env=env)
    assert agents.exit_code == 0, agents.output
    assert "support_router" in agents.stdout and "summarizer" in agents.stdout
    assert "searched:" in agents.stdout and "configs" in agents.stdout
    graphs = invoke("graph", "list", env=env)
    assert graphs.exit_code == 0, graphs.output
    assert "support_triage" in graphs.stdout and "summarize_all" in graphs.stdout
    stats = invoke("runs", "stats", env=env)
    assert stats.exit_code == 0, stats.output
    missing = invoke("agent", "run", "nosuch", "hello", env=env)
    said = str(missing.exception)
    assert missing.exit_code == 1 and isinstance(missing.exception, ConfigError)
    assert "no agent 'nosuch'" in said and str(PACKAGED_CONFIGS) in said
    assert "support_router" in said  # the fix names what exists
    assert list(empty.iterdir()) == []  # nothing written into the user's folder


def test_a_project_is_found_from_a_subfolder_and_its_types_import(
        tmp_path: Path, env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    project = tmp_path / "project"
    (project / "configs" / "agents").mkdir(parents=True)
    (project / "shoal.toml").write_text('default_model = "fake:echo"\n')
    (project / "project_types.py").write_text(
        "from pydantic import BaseModel\n\nclass Ticket(BaseModel):\n    title: str\n")
    (project / "configs" / "agents" / "ticket.yaml").write_text(
        "name: ticket\ninstructions: Copy the ticket.\noutput: project_types:Ticket\n"
        "cache: false\n")
    (project / "configs" / "agents" / "broken.yaml").write_text("name: [unclosed\n")
    deep = project / "src" / "deeper"
    deep.mkdir(parents=True)
    monkeypatch.chdir(deep)

    listed = invoke("agent", "list", env=env)
    assert listed.exit_code == 0, listed.output
    assert "ticket" in listed.stdout and "fake:echo (default)" in listed.stdout
    assert "broken" in listed.stdout and "invalid" in listed.stdout  # shown, hides nothing
    assert "support_router" in listed.stdout  # the packaged ones still show

    ran = invoke("agent", "run", "ticket", '{"title": "printer on fire"}', "--json", env=env)
    assert ran.exit_code == 0, ran.output
    result = json.loads(ran.stdout)
    assert result["output"] == {"title": "printer on fire"} and result["model"] == "fake:echo"
    runs = invoke("runs", "list", env=env)
    assert runs.exit_code == 0 and "agent:ticket" in runs.stdout  # recorded like graph runs

    info = invoke("info", env=env)
    assert info.exit_code == 0, info.output
    assert str(project / "shoal.toml") in info.stdout and "SHOAL_DEFAULT_MODEL" in info.stdout
    assert "ledger.db" in info.stdout
