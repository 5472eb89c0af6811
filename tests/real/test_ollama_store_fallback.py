"""`ollama:NAME` with no server but a local Ollama store runs the store's GGUF in process."""

from __future__ import annotations

import json
import socket
from pathlib import Path

from shoal.models import ChatOptions, ChatRequest, Message, open_model
from shoal.settings import load_settings


async def test_runs_what_ollama_pull_fetched(qwen_gguf: Path, tmp_path: Path) -> None:
    store = tmp_path / "ollama-models"
    digest = "sha256:" + "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32"
    manifest = store / "manifests/registry.ollama.ai/library/qwen2.5-coder/0.5b"
    manifest.parent.mkdir(parents=True)
    manifest.write_text(json.dumps({"schemaVersion": 2, "layers": [
        {"mediaType": "application/vnd.ollama.image.model", "digest": digest}]}))
    (store / "blobs").mkdir()
    (store / "blobs" / digest.replace(":", "-")).symlink_to(qwen_gguf)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    settings = load_settings(ollama_host=f"http://127.0.0.1:{port}", ollama_models_dir=store)
    model = open_model("ollama:qwen2.5-coder:0.5b", settings)
    response = await model.chat(ChatRequest(
        messages=(Message.user("Reply with the single word: yes"),),
        options=ChatOptions(temperature=0, max_tokens=8)))
    assert response.text.strip() != ""
    assert response.model.startswith("gguf:") and response.usage.completion_tokens > 0
