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
    for name in ("agents", "tools", "graphs", "kernel"):
        for cwd in (tmp_path, ROOT):  # even from the repo root, where the folder is visible
            failed = _python(f"import {name}", cwd)
            assert failed.returncode != 0
            assert "ImportError" in failed.stderr or "ModuleNotFoundError" in failed.stderr


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
