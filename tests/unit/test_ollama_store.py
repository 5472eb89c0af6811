import json
from pathlib import Path

from shoal.models.ollama_store import find_ollama_gguf


def _store(tmp_path: Path, parts: list[str], tag: str, layers: list[dict[str, str]]) -> Path:
    manifest = tmp_path.joinpath("manifests", *parts, tag)
    manifest.parent.mkdir(parents=True)
    manifest.write_text(json.dumps({"schemaVersion": 2, "layers": layers}))
    (tmp_path / "blobs").mkdir(exist_ok=True)
    return tmp_path


def test_finds_model_layer_blob(tmp_path: Path) -> None:
    layers = [
        {"mediaType": "application/vnd.ollama.image.template", "digest": "sha256:aaa"},
        {"mediaType": "application/vnd.ollama.image.model", "digest": "sha256:bbb"},
    ]
    store = _store(tmp_path, ["registry.ollama.ai", "library", "qwen2.5-coder"], "0.5b", layers)
    (store / "blobs" / "sha256-bbb").write_bytes(b"GGUF")
    assert find_ollama_gguf(store, "qwen2.5-coder:0.5b") == store / "blobs" / "sha256-bbb"
    assert find_ollama_gguf(store, "qwen2.5-coder") is None  # tag latest not pulled


def test_namespaced_and_default_tag(tmp_path: Path) -> None:
    layers = [{"mediaType": "application/vnd.ollama.image.model", "digest": "sha256:ccc"}]
    store = _store(tmp_path, ["registry.ollama.ai", "someone", "tiny"], "latest", layers)
    (store / "blobs" / "sha256-ccc").write_bytes(b"GGUF")
    assert find_ollama_gguf(store, "someone/tiny") == store / "blobs" / "sha256-ccc"


def test_missing_blob_or_broken_manifest_is_none(tmp_path: Path) -> None:
    layers = [{"mediaType": "application/vnd.ollama.image.model", "digest": "sha256:ddd"}]
    store = _store(tmp_path, ["registry.ollama.ai", "library", "gone"], "latest", layers)
    assert find_ollama_gguf(store, "gone") is None
    (store / "manifests" / "registry.ollama.ai" / "library" / "gone" / "latest").write_text("{")
    assert find_ollama_gguf(store, "gone") is None
    assert find_ollama_gguf(tmp_path / "no-store", "gone") is None
