"""OCR as a tool: images (PNG, JPEG, TIFF) and PDFs in, text lines with boxes and confidence
out. RapidOCR (PP-OCR models inside the wheel) by default; Tesseract as an alternative.

Words the engine returns as separate boxes on one visual row are joined back into one line
(columns separated by three spaces), so "Total due ... 3,961.30" stays one line. A
DocumentReader owns its engine (RapidOCR loads its models once per reader).
"""

from __future__ import annotations

import asyncio
import logging
import shutil
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from shoal.errors import ConfigError, InputError

__all__ = ["DocumentReader", "OcrDocument", "OcrLimits", "OcrLine", "read_document"]

Engine = Literal["rapidocr", "tesseract"]
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp", ".webp"}
_PDF_SCALE = 2.5  # ~180 dpi
_WORKING_SIDE = 3508  # pixels: the long side of an A4 page at 300 dpi; larger images shrink


@dataclass(frozen=True)
class OcrLimits:
    """What a file may hold before OCR refuses it, checked before anything is decoded."""

    max_pages: int = 20
    max_pixels: int = 80_000_000  # below PIL's decompression-bomb warning (89M)


@dataclass(frozen=True)
class OcrLine:
    text: str
    box: tuple[float, float, float, float]  # left, top, right, bottom (pixels)
    confidence: float
    page: int = 0


@dataclass(frozen=True)
class OcrDocument:
    source: str
    lines: tuple[OcrLine, ...]
    pages: int
    seconds: float

    @property
    def text(self) -> str:
        return "\n".join(line.text for line in self.lines)

    @property
    def confidence(self) -> float:
        return min((line.confidence for line in self.lines), default=0.0)


def _rapidocr() -> Any:
    from rapidocr import RapidOCR

    # RapidOCR prints through its own handler; route it into logging instead.
    log = logging.getLogger("RapidOCR")
    log.handlers.clear()
    log.propagate = True
    return RapidOCR(params={"Global.log_level": "warning"})


def _rows(boxes: list[tuple[str, tuple[float, float, float, float], float]], page: int
          ) -> list[OcrLine]:
    """Group word boxes into visual rows (overlapping vertical spans), left to right."""
    rows: list[list[tuple[str, tuple[float, float, float, float], float]]] = []
    for item in sorted(boxes, key=lambda b: (b[1][1] + b[1][3]) / 2):
        _, (_, top, _, bottom), _ = item
        middle = (top + bottom) / 2
        if rows:
            last_top = min(b[1][1] for b in rows[-1])
            last_bottom = max(b[1][3] for b in rows[-1])
            if last_top <= middle <= last_bottom:
                rows[-1].append(item)
                continue
        rows.append([item])
    lines = []
    for row in rows:
        row.sort(key=lambda b: b[1][0])
        box = (min(b[1][0] for b in row), min(b[1][1] for b in row),
               max(b[1][2] for b in row), max(b[1][3] for b in row))
        lines.append(OcrLine("   ".join(b[0] for b in row), box,
                             min(b[2] for b in row), page))
    return lines


def _rapidocr_page(engine: Any, image: Any, page: int) -> list[OcrLine]:
    import numpy as np

    result = engine(np.asarray(image.convert("RGB")))
    if result.boxes is None or result.txts is None:
        return []
    boxes = []
    for points, text, score in zip(result.boxes, result.txts, result.scores, strict=True):
        xs, ys = [p[0] for p in points], [p[1] for p in points]
        boxes.append((str(text), (min(xs), min(ys), max(xs), max(ys)), float(score)))
    return _rows(boxes, page)


def _tesseract_page(image: Any, page: int) -> list[OcrLine]:
    if shutil.which("tesseract") is None:
        raise ConfigError("the tesseract engine needs the tesseract binary",
                          fix="apt-get install tesseract-ocr tesseract-ocr-eng, or use rapidocr")
    import pytesseract

    data = pytesseract.image_to_data(image, output_type=pytesseract.Output.DICT)
    boxes = []
    for i, word in enumerate(data["text"]):
        confidence = float(data["conf"][i])
        if word.strip() and confidence >= 0:
            left, top = float(data["left"][i]), float(data["top"][i])
            boxes.append((word, (left, top, left + data["width"][i], top + data["height"][i]),
                          confidence / 100))
    return _rows(boxes, page)


def _images(path: Path, limits: OcrLimits) -> list[Any]:
    from PIL import Image, UnidentifiedImageError

    suffix = path.suffix.lower()
    if suffix == ".pdf":
        import pypdfium2

        try:
            pdf = pypdfium2.PdfDocument(path)
        except pypdfium2.PdfiumError as exc:
            raise InputError(f"{path.name} is not a readable PDF: {exc}", source=str(path),
                             fix="check that the file is a complete, unencrypted PDF") from exc
        try:
            _check_pages(path, len(pdf), limits)
            return [_working_size(pdf[i].render(scale=_PDF_SCALE).to_pil())
                    for i in range(len(pdf))]
        finally:
            pdf.close()
    if suffix not in IMAGE_SUFFIXES:
        raise InputError(f"{path.name}: unsupported file type {suffix or '(none)'}",
                         source=str(path), fix="give PNG, JPEG, TIFF images or PDF files")
    too_big = (f"more than the limit of {limits.max_pixels:,}", "scan it at a lower "
               "resolution, or raise max_image_pixels (SHOAL_MAX_IMAGE_PIXELS; PIL refuses "
               "more than 179 million regardless)")
    try:
        with Image.open(path) as image:  # reads the header only: nothing is decoded yet
            width, height = image.size
            if width * height > limits.max_pixels:
                raise InputError(f"{path.name} is {width}x{height} pixels, {too_big[0]}",
                                 source=str(path), fix=too_big[1])
            frames = getattr(image, "n_frames", 1)
            _check_pages(path, frames, limits)
            pages = []
            for index in range(frames):  # multi-page TIFF
                image.seek(index)
                if image.format == "JPEG":  # decode at the working size, not the full one
                    image.draft("RGB", _working_box(image.size))
                pages.append(_working_size(image.copy()))
            return pages
    except Image.DecompressionBombError as exc:  # PIL's own limit, met while opening
        raise InputError(f"{path.name} has {too_big[0]} pixels", source=str(path),
                         fix=too_big[1]) from exc
    except (UnidentifiedImageError, OSError) as exc:
        raise InputError(f"{path.name} is not a readable image: {exc}", source=str(path),
                         fix="check that the file is a complete PNG/JPEG/TIFF") from exc


def _check_pages(path: Path, pages: int, limits: OcrLimits) -> None:
    if pages > limits.max_pages:
        raise InputError(f"{path.name} has {pages} pages, more than the limit of "
                         f"{limits.max_pages}", source=str(path),
                         fix="split the file, or raise max_pages (SHOAL_MAX_PAGES)")


def _working_box(size: tuple[int, int]) -> tuple[int, int]:
    scale = min(1.0, _WORKING_SIDE / max(size))
    return max(1, round(size[0] * scale)), max(1, round(size[1] * scale))


def _working_size(image: Any) -> Any:
    """`image` shrunk so its long side is at most _WORKING_SIDE (OCR reads it as well, in a
    fraction of the time and memory)."""
    box = _working_box(image.size)
    return image if box == image.size else image.resize(box)


class DocumentReader:
    """OCR with one engine. `read` is safe to call concurrently (pages are read one at a time
    per reader: the engines are not thread-safe)."""

    def __init__(self, engine: Engine = "rapidocr", limits: OcrLimits = OcrLimits()) -> None:
        if engine not in ("rapidocr", "tesseract"):
            raise ConfigError(f"unknown OCR engine {engine!r}", fix="use rapidocr or tesseract")
        self.engine: Engine = engine
        self.limits = limits
        self._rapidocr: Any = None
        self._lock = threading.Lock()

    def _page(self, image: Any, page: int) -> list[OcrLine]:
        if self.engine == "tesseract":
            return _tesseract_page(image, page)
        with self._lock:
            if self._rapidocr is None:
                self._rapidocr = _rapidocr()
            return _rapidocr_page(self._rapidocr, image, page)

    def _read(self, path: Path) -> OcrDocument:
        if not path.is_file():
            raise InputError(f"{path} does not exist", source=str(path), fix="check the path")
        started = time.perf_counter()
        images = _images(path, self.limits)
        lines = [line for page, image in enumerate(images) for line in self._page(image, page)]
        if not any(line.text.strip() for line in lines):
            raise InputError(f"{path.name}: no text found", source=str(path),
                             fix="is it a document? scan it at a higher resolution if so")
        return OcrDocument(str(path), tuple(lines), len(images), time.perf_counter() - started)

    async def read(self, path: Path) -> OcrDocument:
        """OCR every page of `path`. Raises InputError for unreadable, unsupported or empty
        files, ConfigError when the engine is not installed."""
        return await asyncio.to_thread(self._read, path)


async def read_document(path: Path, *, engine: Engine = "rapidocr") -> OcrDocument:
    """One document with a reader of its own (for many documents, keep a DocumentReader)."""
    return await DocumentReader(engine).read(path)
