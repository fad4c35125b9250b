"""The QR code beside the pickup code (issue 17): the image shows exactly the QR code of
the 4 digits, which the portal's counter scans."""

from __future__ import annotations

import io

import pytest
import segno
from PIL import Image

from canteen_app.state.pickup_qr import BORDER, SCALE, pickup_qr_png


def _modules(png: bytes) -> list[list[bool]]:
    """The dark/light modules read back off the picture (the centre pixel of each)."""
    image = Image.open(io.BytesIO(png)).convert("L")
    size = image.width // SCALE - 2 * BORDER
    return [
        [
            image.getpixel(((BORDER + x) * SCALE + SCALE // 2, (BORDER + y) * SCALE + SCALE // 2))
            < 128
            for x in range(size)
        ]
        for y in range(size)
    ]


@pytest.mark.parametrize("code", ["4821", "0042", "9999"])
def test_the_picture_is_the_qr_code_of_the_digits(code: str) -> None:
    png = pickup_qr_png(code)
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    expected = segno.make_qr(code, error="m")
    # Numeric mode holding the 4 digits and nothing else: what the counter's scanner reads.
    assert expected.mode == "numeric" and expected.version == 1
    assert _modules(png) == [[bool(m) for m in row] for row in expected.matrix]


def test_another_code_is_another_picture() -> None:
    assert _modules(pickup_qr_png("4821")) != _modules(pickup_qr_png("4822"))
