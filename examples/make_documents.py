"""Render the sample documents in examples/documents/ (PNG, JPEG, PDF) with their expected
records. Photo-like: slight rotation, grey paper, blur and noise. Run from the repo root:

    .venv/bin/python examples/make_documents.py
"""

from __future__ import annotations

import json
import random
import sys
from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter, ImageFont

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from bench.documents import make_documents  # noqa: E402  # the shared document generator

OUT = ROOT / "examples" / "documents"


def render(text: str, rng: random.Random) -> Image.Image:
    font = ImageFont.load_default(size=22)
    lines = text.splitlines()
    paper = rng.randint(225, 250)
    image = Image.new("L", (900, 60 + 30 * len(lines)), paper)
    draw = ImageDraw.Draw(image)
    for i, line in enumerate(lines):
        draw.text((30 + rng.randint(0, 4), 25 + 30 * i), line, fill=rng.randint(10, 50),
                  font=font)
    image = image.rotate(rng.uniform(-1.5, 1.5), expand=True, fillcolor=paper)
    image = image.filter(ImageFilter.GaussianBlur(rng.uniform(0.3, 0.7)))
    grain = Image.effect_noise(image.size, 40)
    return Image.blend(image, grain, 0.05).convert("RGB")


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
