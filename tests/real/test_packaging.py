"""Install layout: root folders live only inside the shoal namespace."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _python(code: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", code], cwd=cwd, capture_output=True, text=True,
                          check=False)


def test_namespaced_imports_work_and_top_level_ones_fail(tmp_path: Path) -> None:
    ok = _python("import shoal.agents, shoal.graphs, shoal.tools, sys;"
                 "print('xllamacpp' in sys.modules, 'ollama' in sys.modules)", tmp_path)
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.split() == ["False", "False"]  # backends load only when a model is opened
    for name in ("agents", "tools", "graphs"):
        for cwd in (tmp_path, ROOT):  # even from the repo root, where the folder is visible
            failed = _python(f"import {name}", cwd)
            assert failed.returncode != 0
            assert "ImportError" in failed.stderr or "ModuleNotFoundError" in failed.stderr


def test_shoal_resolves_to_the_checkout(tmp_path: Path) -> None:
    """Editors, mypy and import-graph tools see shoal.* as files of this checkout."""
    shown = _python("import shoal, shoal.agents.agent as a, shoal.graphs, shoal.tools;"
                    "print(shoal.__file__); print(a.__file__)", tmp_path)
    assert shown.returncode == 0, shown.stderr
    kernel, agent = (Path(line) for line in shown.stdout.split())
    assert kernel == ROOT / "shoal" / "__init__.py"
    assert agent.resolve() == ROOT / "agents" / "agent.py"


def test_wheel_holds_only_the_shoal_namespace(tmp_path: Path) -> None:
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(tmp_path),
         str(ROOT)], capture_output=True, text=True, check=False)
    assert built.returncode == 0, built.stderr
    (wheel,) = tmp_path.glob("shoal-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    tops = {name.split("/")[0] for name in names}
    assert tops == {"shoal", "shoal-0.1.0.dist-info"}
    for module in ("shoal/agents/__init__.py", "shoal/graphs/__init__.py",
                   "shoal/tools/__init__.py", "shoal/models/llamacpp.py", "shoal/py.typed"):
        assert module in names
