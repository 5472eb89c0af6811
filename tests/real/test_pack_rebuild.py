"""A truncated cached GGUF of a real pack is detected by size/sha256 and rebuilt."""

from __future__ import annotations

from pathlib import Path

from shoal.models.packs import ensure_pack, get_pack, pack_status, sha256_file


def test_truncated_real_pack_is_rebuilt(qwen_gguf: Path, tmp_path: Path) -> None:
    pack = get_pack("qwen2.5-coder-0.5b")
    path = ensure_pack(pack.name, tmp_path, install=True)  # chunks may not be installed yet
    with path.open("r+b") as f:
        f.truncate(pack.size // 2)
    assert not pack_status(pack, tmp_path).verified
    rebuilt = ensure_pack(pack.name, tmp_path)
    assert rebuilt.stat().st_size == pack.size
    assert sha256_file(rebuilt) == pack.sha256
