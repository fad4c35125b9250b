"""The pickup code as a QR code: the counter's camera reads it instead of the digits being
typed (issue 17). It holds the 4 digits alone, so a typed code and a scanned one are the
same thing to the counter."""

from __future__ import annotations

import io
from functools import lru_cache

import segno

SCALE = 8  # pixels per module: crisp on a phone held up to a webcam
BORDER = 2  # modules of quiet zone; the card around it is white too


@lru_cache(maxsize=16)  # refresh() redraws the screen often; the code rarely changes
def pickup_qr_png(code: str) -> bytes:
    """A PNG of the QR code that says `code`."""
    out = io.BytesIO()
    segno.make_qr(code, error="m").save(out, kind="png", scale=SCALE, border=BORDER)
    return out.getvalue()
