"""OCR input limits, checked before decoding: a page limit for PDFs and TIFFs, a pixel limit
for images (a header claiming a huge image is refused without decoding it), and large images
read at a working size."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import pytest
from PIL import Image

from shoal.errors import InputError
from shoal.tools.ocr import DocumentReader, OcrLimits

DOCS = Path(__file__).resolve().parents[2] / "examples" / "documents"


def _chunk(kind: bytes, data: bytes) -> bytes:
    return (struct.pack(">I", len(data)) + kind + data
            + struct.pack(">I", zlib.crc32(kind + data)))


def _png_header(path: Path, width: int, height: int) -> None:
    """A PNG whose header claims width x height and whose pixels are missing."""
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header)
                     + _chunk(b"IDAT", zlib.compress(b"")) + _chunk(b"IEND", b""))


async def test_an_image_over_the_pixel_limit_is_refused_before_decoding(tmp_path: Path) -> None:
    for width, height in ((9_000, 9_000), (100_000, 100_000)):  # PIL stops the second itself
        bomb = tmp_path / f"bomb-{width}.png"
        _png_header(bomb, width, height)  # a few bytes on disk
        with pytest.raises(InputError, match="more than the limit of 80,000,000") as caught:
            await DocumentReader().read(bomb)
        assert "max_image_pixels" in (caught.value.fix or "")


async def test_a_pdf_over_the_page_limit_is_refused(tmp_path: Path) -> None:
    pages = [Image.new("RGB", (200, 280), "white") for _ in range(3)]
    pdf = tmp_path / "three.pdf"
    pages[0].save(pdf, save_all=True, append_images=pages[1:])
    with pytest.raises(InputError, match="3 pages, more than the limit of 2"):
        await DocumentReader(limits=OcrLimits(max_pages=2)).read(pdf)


async def test_a_large_scan_is_read_at_a_working_size(tmp_path: Path) -> None:
    small = await DocumentReader().read(DOCS / "receipt-3.png")
    with Image.open(DOCS / "receipt-3.png") as image:
        huge = image.resize((image.width * 6, image.height * 6))  # ~5400 px wide
    path = tmp_path / "huge.png"
    huge.save(path)
    read = await DocumentReader().read(path)
    assert max(max(line.box[2] for line in read.lines), 1) <= 3508  # boxes of the working size
    found = {w for line in read.lines for w in line.text.split()}
    expected = {w for line in small.lines for w in line.text.split()}
    assert len(found & expected) >= 0.8 * len(expected)
