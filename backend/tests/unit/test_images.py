"""Menu image pipeline: validation by bytes, normalisation, variants, storage keys."""

from __future__ import annotations

import hashlib
import io
import random
import struct
import zlib
from pathlib import Path

import pytest
from PIL import Image, ImageCms

from canteen.menu.images import (
    DISPLAY_SIZE,
    MAX_BYTES,
    MAX_SIDE,
    THUMB_SIZE,
    ImageRejected,
    ProcessedImage,
    delete_item_image,
    process_image,
    store_item_image,
)
from canteen.storage.local import LocalStorage

RED = (220, 20, 20)
BLUE = (20, 20, 220)


def encode(img: Image.Image, fmt: str, **params: object) -> bytes:
    buf = io.BytesIO()
    img.save(buf, fmt, **params)
    return buf.getvalue()


def two_tone(size: tuple[int, int], mode: str = "RGB") -> Image.Image:
    """Left half red, right half blue, so rotations are visible."""
    img = Image.new("RGB", size, BLUE)
    img.paste(RED, (0, 0, size[0] // 2, size[1]))
    return img.convert(mode)


def decode(data: bytes) -> Image.Image:
    img = Image.open(io.BytesIO(data))
    assert img.format == "WEBP"
    img.load()
    return img


def close(a: tuple[int, ...], b: tuple[int, ...], tol: int = 24) -> bool:
    return all(abs(x - y) <= tol for x, y in zip(a, b, strict=True))


def png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def fake_png_header(width: int, height: int) -> bytes:
    """A PNG whose IHDR claims `width`x`height` but whose pixel data is junk."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", ihdr)
        + png_chunk(b"IDAT", b"not zlib data at all")
        + png_chunk(b"IEND", b"")
    )


def check_variants(result: ProcessedImage) -> tuple[Image.Image, Image.Image]:
    display, thumb = decode(result.display), decode(result.thumbnail)
    assert result.content_type == "image/webp"
    assert display.mode == "RGB" and thumb.mode == "RGB"
    assert max(display.size) <= DISPLAY_SIZE
    assert max(thumb.size) <= THUMB_SIZE
    assert display.size == (result.width, result.height)
    for img in (display, thumb):
        assert not img.getexif()
        assert not {"exif", "icc_profile", "xmp"} & set(img.info)
    return display, thumb


# --- accepted formats -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fmt", "params"),
    [("JPEG", {"quality": 90}), ("PNG", {}), ("WEBP", {"quality": 90})],
)
def test_supported_formats_become_webp_variants(fmt: str, params: dict[str, object]) -> None:
    data = encode(two_tone((2000, 1000)), fmt, **params)
    result = process_image(data)
    display, thumb = check_variants(result)
    assert display.size == (DISPLAY_SIZE, DISPLAY_SIZE // 2)
    assert thumb.size == (THUMB_SIZE, THUMB_SIZE // 2)
    assert close(display.getpixel((100, 200)), RED)
    assert close(display.getpixel((700, 200)), BLUE)


def test_portrait_image_fits_longest_side() -> None:
    result = process_image(encode(two_tone((1200, 3000)), "JPEG"))
    display, thumb = check_variants(result)
    assert display.size == (320, 800)
    assert thumb.size == (96, 240)


def test_small_image_is_never_upscaled() -> None:
    result = process_image(encode(two_tone((120, 80)), "PNG"))
    display, thumb = check_variants(result)
    assert display.size == (120, 80)
    assert thumb.size == (120, 80)


def test_max_side_is_accepted() -> None:
    result = process_image(encode(Image.new("L", (MAX_SIDE, 16), 128), "PNG"))
    assert (result.width, result.height) == (DISPLAY_SIZE, 3)


def test_png_alpha_is_flattened_onto_white() -> None:
    img = Image.new("RGBA", (100, 100), (0, 0, 0, 0))  # fully transparent black
    img.paste((*RED, 255), (0, 0, 50, 100))
    img.paste((*BLUE, 128), (50, 50, 100, 100))  # half-transparent blue
    display, _ = check_variants(process_image(encode(img, "PNG")))
    assert close(display.getpixel((75, 20)), (255, 255, 255))
    assert close(display.getpixel((20, 50)), RED)
    assert close(display.getpixel((75, 75)), (137, 137, 237))


def test_palette_png_with_transparency_is_flattened() -> None:
    img = Image.new("P", (64, 64), 0)
    img.putpalette([0, 0, 0, *RED] + [0] * 762)
    img.paste(1, (0, 0, 32, 64))
    display, _ = check_variants(process_image(encode(img, "PNG", transparency=0)))
    assert close(display.getpixel((10, 10)), RED)
    assert close(display.getpixel((50, 10)), (255, 255, 255))


@pytest.mark.parametrize("mode", ["L", "LA", "RGBA", "CMYK", "I;16"])
def test_other_pixel_modes_become_rgb(mode: str) -> None:
    fmt = "JPEG" if mode == "CMYK" else "PNG"
    if mode == "I;16":
        img = Image.new("I;16", (50, 50), 40000)  # 16-bit grey: must not clip to white
        display, _ = check_variants(process_image(encode(img, fmt)))
        assert close(display.getpixel((25, 25)), (156, 156, 156), tol=4)
        return
    check_variants(process_image(encode(two_tone((50, 50), mode), fmt)))


def test_animated_webp_uses_first_frame() -> None:
    frames = [Image.new("RGB", (60, 40), RED), Image.new("RGB", (60, 40), BLUE)]
    data = encode(frames[0], "WEBP", save_all=True, append_images=frames[1:], lossless=True)
    display, _ = check_variants(process_image(data))
    assert close(display.getpixel((30, 20)), RED)


def test_bytes_decide_the_format_not_the_name() -> None:
    # process_image never sees a name or content type: a PNG uploaded as "photo.jpg"
    # with Content-Type image/jpeg is simply a PNG.
    png = encode(two_tone((300, 200)), "PNG")
    result = process_image(png)
    assert (result.width, result.height) == (300, 200)


# --- metadata and orientation -----------------------------------------------------------


def test_exif_orientation_is_applied_and_metadata_stripped() -> None:
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation: rotate 90° clockwise to display
    exif[0x010F] = "CameraMaker"  # Make
    exif[0x8825] = {1: "N", 2: (12.0, 58.0, 0.0)}  # GPSInfo: must not leak
    data = encode(two_tone((100, 50)), "JPEG", exif=exif.tobytes(), quality=95)
    assert Image.open(io.BytesIO(data)).getexif()[0x0112] == 6

    display, thumb = check_variants(process_image(data))
    assert display.size == (50, 100)
    assert thumb.size == (50, 100)
    # Clockwise: the original left (red) half becomes the top half.
    assert close(display.getpixel((25, 20)), RED)
    assert close(display.getpixel((25, 80)), BLUE)


def test_icc_profile_is_converted_and_dropped() -> None:
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    data = encode(two_tone((64, 64)), "JPEG", icc_profile=srgb, quality=95)
    assert Image.open(io.BytesIO(data)).info.get("icc_profile")
    display, _ = check_variants(process_image(data))
    assert close(display.getpixel((10, 32)), RED)


def test_unusable_icc_profile_is_ignored() -> None:
    data = encode(two_tone((64, 64)), "PNG", icc_profile=b"definitely not an ICC profile")
    display, _ = check_variants(process_image(data))
    assert close(display.getpixel((10, 32)), RED)


# --- digest -----------------------------------------------------------------------------


def test_digest_is_sha256_prefix_of_the_original_bytes() -> None:
    data = encode(two_tone((200, 100)), "PNG")
    first, second = process_image(data), process_image(bytes(data))
    assert first.digest == second.digest == hashlib.sha256(data).hexdigest()[:16]
    assert len(first.digest) == 16
    other = encode(two_tone((200, 101)), "PNG")
    assert process_image(other).digest != first.digest


def test_digest_changes_with_bytes_even_for_identical_pixels() -> None:
    img = two_tone((200, 100))
    a = process_image(encode(img, "PNG", compress_level=1))
    b = process_image(encode(img, "PNG", compress_level=9))
    assert a.digest != b.digest


# --- rejections -------------------------------------------------------------------------


def rejected(data: bytes) -> ImageRejected:
    with pytest.raises(ImageRejected) as info:
        process_image(data)
    assert info.value.message and info.value.message == str(info.value)
    return info.value


def test_over_5mb_is_too_large_without_decoding() -> None:
    # Not an image at all: were it decoded, the reason would be unsupported_type.
    err = rejected(b"\x00" * (MAX_BYTES + 1))
    assert err.reason == "too_large"
    assert err.message == "Image is 5.1 MB; the limit is 5 MB."


def test_too_large_message_names_the_size() -> None:
    err = rejected(random.Random(1).randbytes(int(6.2 * 1024 * 1024)))
    assert err.reason == "too_large"
    assert err.message == "Image is 6.2 MB; the limit is 5 MB."


def test_exactly_5mb_is_accepted() -> None:
    jpeg = encode(two_tone((100, 100)), "JPEG")
    padded = jpeg + b"\x00" * (MAX_BYTES - len(jpeg))  # trailing bytes after EOI are ignored
    assert len(padded) == MAX_BYTES
    assert process_image(padded).width == 100


def test_side_over_limit_is_rejected() -> None:
    err = rejected(encode(Image.new("RGB", (5000, 10), RED), "PNG"))
    assert err.reason == "dimensions_too_large"
    assert "5000x10" in err.message and str(MAX_SIDE) in err.message


def test_dimensions_checked_before_pixels_are_decoded() -> None:
    # The pixel data is junk: a decode would fail as corrupt, so dimensions came first.
    assert rejected(fake_png_header(5000, 5000)).reason == "dimensions_too_large"
    # Far beyond Pillow's own bomb limit (raised inside Image.open).
    assert rejected(fake_png_header(60000, 60000)).reason == "dimensions_too_large"
    # Within limits, the same junk is reported as corrupt.
    assert rejected(fake_png_header(100, 100)).reason == "corrupt"


@pytest.mark.parametrize("fmt", ["GIF", "BMP", "TIFF", "ICO", "PPM", "TGA"])
def test_other_image_formats_are_unsupported(fmt: str) -> None:
    err = rejected(encode(two_tone((32, 32)), fmt))
    assert err.reason == "unsupported_type"
    assert "JPEG, PNG or WebP" in err.message


@pytest.mark.parametrize(
    "data",
    [
        random.Random(7).randbytes(4096),
        b"<svg xmlns='http://www.w3.org/2000/svg'></svg>",
        b"%PDF-1.7\n",
        b"GIF89a",
    ],
    ids=["random", "svg", "pdf", "gif-magic-only"],
)
def test_non_images_are_unsupported(data: bytes) -> None:
    assert rejected(data).reason == "unsupported_type"


def test_empty_file_is_corrupt() -> None:
    err = rejected(b"")
    assert err.reason == "corrupt"
    assert "empty" in err.message


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP"])
def test_truncated_images_are_corrupt(fmt: str) -> None:
    noise = Image.effect_noise((256, 256), 64).convert("RGB")  # incompressible: many bytes
    data = encode(noise, fmt)
    assert rejected(data[: len(data) // 2]).reason == "corrupt"


@pytest.mark.parametrize("prefix", [b"\xff\xd8\xff\xe0", b"\x89PNG\r\n\x1a\n", b"RIFF\0\0\0\0WEBP"])
def test_known_signature_with_garbage_is_corrupt(prefix: bytes) -> None:
    assert rejected(prefix + random.Random(3).randbytes(200)).reason == "corrupt"


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP"])
def test_damaged_bytes_never_escape_as_other_errors(fmt: str) -> None:
    data = encode(two_tone((64, 48)), fmt)
    rng = random.Random(fmt)
    for _ in range(150):
        mutated = bytearray(data)
        for _ in range(rng.randint(1, 8)):
            mutated[rng.randrange(len(mutated))] = rng.randrange(256)
        try:
            check_variants(process_image(bytes(mutated)))
        except ImageRejected as err:
            assert err.reason in {"corrupt", "unsupported_type", "dimensions_too_large"}


# --- storing ----------------------------------------------------------------------------


@pytest.fixture
def storage(tmp_path: Path) -> LocalStorage:
    return LocalStorage(tmp_path / "media", base_url="/media")


@pytest.fixture(scope="module")
def processed() -> ProcessedImage:
    return process_image(encode(two_tone((1000, 500)), "JPEG"))


async def test_store_item_image_writes_both_variants(
    storage: LocalStorage, processed: ProcessedImage
) -> None:
    stored = await store_item_image(storage, "item-42", processed)
    display_key = f"menu/item-42/{processed.digest}-display.webp"
    thumb_key = f"menu/item-42/{processed.digest}-thumb.webp"
    assert stored.keys == [display_key, thumb_key]
    assert stored.image_url == f"/media/{display_key}"
    assert stored.thumbnail_url == f"/media/{thumb_key}"
    assert storage.path(display_key).read_bytes() == processed.display
    assert storage.path(thumb_key).read_bytes() == processed.thumbnail

    await delete_item_image(storage, stored.keys)
    assert not await storage.exists(display_key)
    assert not await storage.exists(thumb_key)
    await delete_item_image(storage, stored.keys)  # deleting again is fine


async def test_new_image_gets_new_url(storage: LocalStorage, processed: ProcessedImage) -> None:
    other = process_image(encode(two_tone((1000, 501)), "JPEG"))
    first = await store_item_image(storage, "7", processed)
    second = await store_item_image(storage, "7", other)
    assert first.image_url != second.image_url
    again = await store_item_image(storage, "7", processed)
    assert again == first


@pytest.mark.parametrize("item_id", ["", "..", "a/b", "../x", "a b", "x" * 65])
async def test_store_rejects_unsafe_item_ids(
    storage: LocalStorage, processed: ProcessedImage, item_id: str
) -> None:
    with pytest.raises(ValueError, match="menu item id"):
        await store_item_image(storage, item_id, processed)
    assert not storage.root.exists()


async def test_failed_store_removes_the_first_variant(
    storage: LocalStorage, processed: ProcessedImage
) -> None:
    # A directory where the thumbnail should go makes the second write fail.
    blocker = storage.path(f"menu/9/{processed.digest}-thumb.webp")
    blocker.mkdir(parents=True)
    with pytest.raises(OSError):
        await store_item_image(storage, "9", processed)
    assert not await storage.exists(f"menu/9/{processed.digest}-display.webp")
    assert [p.name for p in blocker.parent.iterdir()] == [blocker.name]
