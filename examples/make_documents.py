"""Render the sample documents in examples/documents/ (PNG, JPEG, PDF) with their expected
records. Photo-like: slight rotation, grey paper, blur and noise. Run from the repo root:

    .venv/bin/python examples/make_documents.py
"""

from __future__ import annotations

import json
import random
import sys
from pathlib import Path

from PIL import Image, ImageFont

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from bench.documents import make_documents, render_scan  # noqa: E402  # shared generator

OUT = ROOT / "examples" / "documents"


def render(text: str, rng: random.Random) -> Image.Image:
    lines = text.splitlines()
    image: Image.Image = render_scan(
        lines, rng, size=(900, 60 + 30 * len(lines)), font=ImageFont.load_default(size=22),
        paper=(225, 250), origin=(30, 25), step=30, jitter=4, ink=(10, 50), tilt=1.5,
        blur=(0.3, 0.7), expand=True)
    return image


def main() -> None:
    rng = random.Random(2026)
    OUT.mkdir(parents=True, exist_ok=True)
    expected = []
    for index, doc in enumerate(make_documents(6, seed=2026)):
        image = render(doc.text, rng)
        suffix = [".png", ".jpg", ".png", ".pdf", ".png", ".jpg"][index]
        name = f"{doc.kind}-{index + 1}{suffix}"
        if suffix == ".jpg":
            image.save(OUT / name, quality=85)
        else:
            image.save(OUT / name)
        expected.append({"file": name, "kind": doc.kind, **{
            k: (v.isoformat() if hasattr(v, "isoformat") else str(v))
            for k, v in doc.expected.items()}})
    (OUT / "expected.jsonl").write_text("".join(json.dumps(e) + "\n" for e in expected))


if __name__ == "__main__":
    main()
