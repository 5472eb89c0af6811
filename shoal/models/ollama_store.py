"""Find the GGUF behind an `ollama pull`ed model in a local Ollama model store.

Layout (Ollama's own): `<store>/manifests/<host>/<namespace>/<model>/<tag>` is a JSON manifest
whose layer of media type `application/vnd.ollama.image.model` names the GGUF blob, stored at
`<store>/blobs/sha256-<hex>`. Lets the embedded runtime run a model when no server answers.
"""

from __future__ import annotations

import json
from pathlib import Path

__all__ = ["find_ollama_gguf"]

_DEFAULT_HOST = "registry.ollama.ai"
_DEFAULT_NAMESPACE = "library"
_MODEL_LAYER = "application/vnd.ollama.image.model"


def _manifest_path(store: Path, name: str) -> Path:
    model, _, tag = name.partition(":")
    parts = model.split("/")
    if len(parts) == 1:
        parts = [_DEFAULT_HOST, _DEFAULT_NAMESPACE, *parts]
    elif len(parts) == 2:
        parts = [_DEFAULT_HOST, *parts]
    return store.joinpath("manifests", *parts, tag or "latest")


def find_ollama_gguf(store: Path, name: str) -> Path | None:
    """The GGUF blob of model `name` (e.g. `qwen2.5-coder:0.5b`) in `store`, or None when the
    store has no such model or its manifest or blob is unreadable."""
    manifest = _manifest_path(store, name)
    try:
        layers = json.loads(manifest.read_text(encoding="utf-8")).get("layers", [])
    except (OSError, ValueError, AttributeError):
        return None
    for layer in layers:
        if isinstance(layer, dict) and layer.get("mediaType") == _MODEL_LAYER:
            digest = str(layer.get("digest", ""))
            blob = store / "blobs" / digest.replace(":", "-")
            if digest.startswith("sha256:") and blob.is_file():
                return blob
    return None
