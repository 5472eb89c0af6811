"""Real tier: the embedded runtime on the qwen2.5-coder-0.5b pack (installed if missing)."""

from __future__ import annotations

from pathlib import Path

import pytest

from shoal.models.packs import ensure_pack
from shoal.settings import load_settings

QWEN = "qwen2.5-coder-0.5b"


@pytest.fixture(scope="session")
def qwen_gguf() -> Path:
    return ensure_pack(QWEN, load_settings().cache_dir, install=True)


@pytest.fixture(scope="session")
def qwen15_gguf() -> Path:
    return ensure_pack("qwen2.5-coder-1.5b", load_settings().cache_dir, install=True)
