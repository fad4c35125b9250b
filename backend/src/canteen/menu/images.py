"""Menu item images: validate an upload, normalise it, and store display + thumbnail variants.

`process_image` is pure and CPU-bound (callers run it with `asyncio.to_thread`); the
`store_*`/`delete_*` helpers do the I/O through the `Storage` interface.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import math
import re
import struct
from dataclasses import dataclass
from typing import Literal

from PIL import Image, ImageCms, ImageOps, UnidentifiedImageError

from canteen.storage.base import Storage

MAX_BYTES = 5 * 1024 * 1024
MAX_SIDE = 4096
# Our own decompression-bomb limit, far below Pillow's global default (~89 Mpx), which we
# leave alone because it is process-wide.
MAX_PIXELS = MAX_SIDE * MAX_SIDE
DISPLAY_SIZE = 800  # longest side
THUMB_SIZE = 240  # longest side
WEBP_QUALITY = 82
CONTENT_TYPE = "image/webp"

# Only these decoders ever see uploaded bytes: fewer parsers, smaller attack surface.
ALLOWED_FORMATS = ("JPEG", "PNG", "WEBP")
_SIGNATURES = (b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n")
_ITEM_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")

RejectReason = Literal["unsupported_type", "too_large", "dimensions_too_large", "corrupt"]

MSG_UNSUPPORTED = "This file is not a supported image; upload a JPEG, PNG or WebP image."
MSG_CORRUPT = "The image file is damaged or incomplete and could not be read."


class ImageRejected(Exception):
    """The upload is not an acceptable image; `reason` is machine-readable."""

    def __init__(self, reason: RejectReason, message: str) -> None:
        super().__init__(message)
        self.reason: RejectReason = reason
        self.message = message


@dataclass(frozen=True, slots=True)
class ProcessedImage:
    display: bytes
    thumbnail: bytes
    digest: str  # first 16 hex chars of sha256(original bytes)
    width: int  # of the display variant
    height: int
    content_type: str = CONTENT_TYPE


@dataclass(frozen=True, slots=True)
class StoredImage:
    image_url: str
    thumbnail_url: str
    keys: list[str]


def process_image(data: bytes) -> ProcessedImage:
    """Validate `data` by its bytes alone and return WebP display and thumbnail variants."""
    # Size first, so an oversized upload is never handed to a decoder.
    if len(data) > MAX_BYTES:
        raise ImageRejected(
            "too_large",
            f"Image is {_megabytes(len(data))} MB; the limit is {MAX_BYTES // 2**20} MB.",
        )
    if not data:
        raise ImageRejected("corrupt", "The uploaded file is empty.")
    try:
        with Image.open(io.BytesIO(data), formats=ALLOWED_FORMATS) as img:
            if img.format not in ALLOWED_FORMATS:
                raise ImageRejected("unsupported_type", MSG_UNSUPPORTED)
            # open() parsed only the header: check dimensions before decoding any pixels.
            _check_dimensions(*img.size)
            # JPEG only: let libjpeg decode at 1/2..1/8 scale while staying >= 2x display size.
            img.draft(None, (DISPLAY_SIZE * 2, DISPLAY_SIZE * 2))
            img.load()
            display = _normalise(img)
    except ImageRejected:
        raise
    except Image.DecompressionBombError as exc:
        raise ImageRejected("dimensions_too_large", _dimensions_message(None)) from exc
    except UnidentifiedImageError as exc:
        # Bytes that start like one of our formats but don't parse are damaged, not foreign.
        if data.startswith(_SIGNATURES) or (data[:4] == b"RIFF" and data[8:12] == b"WEBP"):
            raise ImageRejected("corrupt", MSG_CORRUPT) from exc
        raise ImageRejected("unsupported_type", MSG_UNSUPPORTED) from exc
    except (OSError, SyntaxError, ValueError, EOFError, struct.error) as exc:
        # What Pillow's decoders raise for truncated or malformed data.
        raise ImageRejected("corrupt", MSG_CORRUPT) from exc

    display.thumbnail((DISPLAY_SIZE, DISPLAY_SIZE), Image.Resampling.LANCZOS)  # never upscales
    thumb = display.copy()
    thumb.thumbnail((THUMB_SIZE, THUMB_SIZE), Image.Resampling.LANCZOS)
    return ProcessedImage(
        display=_encode_webp(display),
        thumbnail=_encode_webp(thumb),
        digest=hashlib.sha256(data).hexdigest()[:16],
        width=display.width,
        height=display.height,
    )


async def store_item_image(
    storage: Storage, item_id: str, processed: ProcessedImage
) -> StoredImage:
    """Write both variants under `menu/{item_id}/`; on failure remove what was written."""
    if not _ITEM_ID.fullmatch(item_id):
        raise ValueError(f"Invalid menu item id for an image key: {item_id!r}")
    display_key = f"menu/{item_id}/{processed.digest}-display.webp"
    thumb_key = f"menu/{item_id}/{processed.digest}-thumb.webp"
    written: list[str] = []
    try:
        for key, body in ((display_key, processed.display), (thumb_key, processed.thumbnail)):
            await storage.put(key, body, processed.content_type)
            written.append(key)
    except BaseException:
        # Best effort: an orphan is harmless (content-addressed) but wastes space.
        await asyncio.gather(*(storage.delete(k) for k in written), return_exceptions=True)
        raise
    return StoredImage(
        image_url=storage.url(display_key),
        thumbnail_url=storage.url(thumb_key),
        keys=[display_key, thumb_key],
    )


async def delete_item_image(storage: Storage, keys: list[str]) -> None:
    """Delete every key (missing ones are fine); re-raise the first failure after trying all."""
    results = await asyncio.gather(*(storage.delete(k) for k in keys), return_exceptions=True)
    for result in results:
        if isinstance(result, BaseException):
            raise result


def _megabytes(size: int) -> str:
    # Round up so a file just over the limit never reads as "5.0 MB; the limit is 5 MB".
    return f"{math.ceil(size * 10 / 2**20) / 10:.1f}"


def _check_dimensions(width: int, height: int) -> None:
    if width > MAX_SIDE or height > MAX_SIDE or width * height > MAX_PIXELS:
        raise ImageRejected("dimensions_too_large", _dimensions_message((width, height)))


def _dimensions_message(size: tuple[int, int] | None) -> str:
    limit = f"the limit is {MAX_SIDE} pixels on each side"
    if size is None:
        return f"Image dimensions are far too large; {limit}."
    return f"Image is {size[0]}x{size[1]} pixels; {limit}."


def _normalise(img: Image.Image) -> Image.Image:
    """Upright, sRGB, RGB pixels with no metadata attached."""
    icc = img.info.get("icc_profile")
    img = ImageOps.exif_transpose(img)
    if img.mode in ("I;16", "I;16B", "I;16L", "I"):
        # 16-bit greyscale: scale to 8 bits (a plain convert would clip to white).
        img = img.convert("I").point(lambda v: v * (1 / 256)).convert("L")
    if icc:
        # Dropping the profile without converting would shift colours (e.g. Display P3 photos).
        img = _to_srgb(img, icc)
    if img.has_transparency_data:
        rgba = img.convert("RGBA")
        flat = Image.new("RGB", rgba.size, (255, 255, 255))
        flat.paste(rgba, mask=rgba.getchannel("A"))
        img = flat
    else:
        img = img.convert("RGB")
    img.info.clear()  # belt and braces: the WebP encoder must not find EXIF/ICC/XMP
    return img


def _to_srgb(img: Image.Image, icc: bytes) -> Image.Image:
    out_mode = "RGBA" if img.mode in ("RGBA", "LA", "PA") else "RGB"
    try:
        source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        # A fresh sRGB profile per call: littlecms profile handles aren't safe to share
        # between the threads that run process_image concurrently.
        srgb = ImageCms.createProfile("sRGB")
        converted = ImageCms.profileToProfile(img, source, srgb, outputMode=out_mode)
    except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
        # Unusable profile or a mode littlecms can't transform: keep the pixels as they are.
        return img
    return converted if converted is not None else img


def _encode_webp(img: Image.Image) -> bytes:
    buf = io.BytesIO()
    img.save(buf, "WEBP", quality=WEBP_QUALITY, method=4)
    return buf.getvalue()
