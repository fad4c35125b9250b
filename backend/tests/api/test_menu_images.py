"""Menu item images through the API: local files served under /media, and S3 (moto's
server mode over real HTTP); every bad upload refused with nothing written."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from typing import Any

import boto3
import httpx
import pytest
from botocore.config import Config
from menu_support import (
    counts,
    etag,
    events,
    image_bytes,
    kitchen_session,
    make_category,
    make_item,
    make_slots,
    media_files,
    small_menu,
)
from moto.server import ThreadedMotoServer
from PIL import Image

from canteen.app import create_app
from canteen.bootstrap import build_container
from conftest import API, assert_error, bearer, login_customer, make_settings

REGION = "ap-south-1"
BUCKET = "canteen-media-api-test"
CREDS = {"s3_access_key_id": "testing-key-id", "s3_secret_access_key": "testing-secret"}


def upload(client: httpx.AsyncClient, item_id: str, session: dict[str, Any], data: bytes,
           name: str = "photo.jpg", content_type: str = "image/jpeg") -> Any:  # fmt: skip
    return client.post(
        f"{API}/admin/menu/items/{item_id}/image",
        files={"file": (name, data, content_type)},
        headers=bearer(session),
    )


def webp_size(data: bytes) -> tuple[int, int]:
    assert data[:4] == b"RIFF" and data[8:12] == b"WEBP"
    with Image.open(io.BytesIO(data)) as img:
        assert img.format == "WEBP"
        return img.size


async def test_upload_stores_webp_variants_served_under_media(client, container):
    m = await small_menu(client, container)
    item_id = m.dosa["id"]
    before_tags = (await etag(client, "/menu/items"), await etag(client, f"/menu/items/{item_id}"))
    n_events = len(await events(container))
    r = await upload(client, item_id, m.admin, image_bytes("JPEG", (1600, 1200)), "dosa.JPG")
    assert r.status_code == 200, r.text
    item = r.json()["data"]
    assert item["image_url"].startswith(f"/media/menu/{item_id}/")
    assert item["image_url"].endswith("-display.webp")
    assert item["thumbnail_url"].endswith("-thumb.webp")
    # Served by the app, as WebP, cacheable forever (the name carries a content hash).
    display = await client.get(item["image_url"])
    assert display.status_code == 200
    assert display.headers["content-type"] == "image/webp"
    assert "immutable" in display.headers["cache-control"]
    assert webp_size(display.content) == (800, 600)
    thumb = await client.get(item["thumbnail_url"])
    assert webp_size(thumb.content) == (240, 180)
    assert len(media_files(container.settings, item_id)) == 2
    # The menu shows it, with new ETags, and the change is an event.
    r = await client.get(f"{API}/menu/items/{item_id}")
    assert r.json()["data"]["image_url"] == item["image_url"]
    assert (await etag(client, "/menu/items"), await etag(client, f"/menu/items/{item_id}")) != (
        before_tags
    )
    [event] = (await events(container))[n_events:]
    assert event.type == "menu.updated" and event.data["action"] == "image_changed"
    assert event.data["image_url"] == item["image_url"]


@pytest.mark.parametrize(
    ("fmt", "mode", "name", "content_type"),
    [
        ("PNG", "RGBA", "photo.png", "image/png"),
        ("WEBP", "RGB", "photo.webp", "image/webp"),
        ("PNG", "RGB", "looks-like.jpg", "image/jpeg"),  # judged by the bytes, not the name
        ("JPEG", "RGB", "no-extension", "application/octet-stream"),
    ],
)
async def test_png_and_webp_are_accepted_whatever_the_name(
    client, container, fmt, mode, name, content_type
):
    m = await small_menu(client, container)
    data = image_bytes(fmt, (300, 200), mode)
    r = await upload(client, m.chai["id"], m.admin, data, name, content_type)
    assert r.status_code == 200, r.text
    display = await client.get(r.json()["data"]["image_url"])
    assert webp_size(display.content) == (300, 200)  # never upscaled


async def test_new_image_changes_url_and_removes_old_files(client, container):
    m = await small_menu(client, container)
    item_id = m.dosa["id"]
    first = (await upload(client, item_id, m.admin, image_bytes("JPEG", (640, 480)))).json()["data"]
    old_files = media_files(container.settings, item_id)
    second = (await upload(client, item_id, m.admin, image_bytes("PNG", (500, 500)))).json()["data"]
    assert second["image_url"] != first["image_url"]
    assert second["thumbnail_url"] != first["thumbnail_url"]
    new_files = media_files(container.settings, item_id)
    assert len(new_files) == 2 and not set(new_files) & set(old_files)
    assert (await client.get(first["image_url"])).status_code == 404
    assert (await client.get(second["image_url"])).status_code == 200

    # The same picture again: same URLs, nothing changes, nothing is recorded.
    tag = await etag(client, "/menu/items")
    n_events = len(await events(container))
    again = await upload(client, item_id, m.admin, image_bytes("PNG", (500, 500)))
    assert again.json()["data"]["image_url"] == second["image_url"]
    assert len(await events(container)) == n_events
    assert await etag(client, "/menu/items") == tag
    assert media_files(container.settings, item_id) == new_files


async def test_removing_the_image_or_the_item_removes_the_files(client, container):
    m = await small_menu(client, container)
    for item in (m.dosa, m.chai):
        r = await upload(client, item["id"], m.admin, image_bytes())
        assert r.status_code == 200
    r = await client.delete(f"{API}/admin/menu/items/{m.dosa['id']}/image", headers=bearer(m.admin))
    assert r.status_code == 200
    assert r.json()["data"]["image_url"] is None and r.json()["data"]["thumbnail_url"] is None
    assert media_files(container.settings, m.dosa["id"]) == []
    r = await client.delete(f"{API}/admin/menu/items/{m.chai['id']}", headers=bearer(m.admin))
    assert r.status_code == 204
    assert media_files(container.settings, m.chai["id"]) == []


JPEG = image_bytes("JPEG", (400, 300))
BIG_BUT_SMALL_FILE = image_bytes("PNG", (4097, 8))


@pytest.mark.parametrize(
    ("files", "issue"),
    [
        ({"file": ("menu.png", b"just some text, not a picture", "image/png")}, "unsupported_type"),
        ({"file": ("menu.gif", b"GIF89a\x01\x00\x01\x00\x00\x00\x00;", "image/gif")}, "unsupported_type"),
        ({"file": ("photo.jpg", JPEG[: len(JPEG) // 3], "image/jpeg")}, "corrupt"),
        ({"file": ("photo.jpg", b"", "image/jpeg")}, "corrupt"),
        ({"file": ("wide.png", BIG_BUT_SMALL_FILE, "image/png")}, "dimensions_too_large"),
        ({"file": ("huge.jpg", b"\xff\xd8\xff" + b"0" * (5 * 2**20), "image/jpeg")}, "too_large"),
        ({"file": ("huge.jpg", b"\xff\xd8\xff" + b"0" * (6 * 2**20), "image/jpeg")}, "too_large"),
        ({"photo": ("photo.jpg", JPEG, "image/jpeg")}, "missing"),
        ({"file": (None, "a plain form field")}, "missing"),
    ],
)  # fmt: skip
async def test_bad_uploads_are_refused_and_nothing_is_written(client, container, files, issue):
    m = await small_menu(client, container)
    item_id = m.dosa["id"]
    before, tag = await counts(container), await etag(client, "/menu/items")
    r = await client.post(
        f"{API}/admin/menu/items/{item_id}/image", files=files, headers=bearer(m.admin)
    )
    err = assert_error(r, 400, "VALIDATION_ERROR")
    assert [(d["field"], d["issue"]) for d in err["details"]] == [("file", issue)]
    assert err["details"][0]["message"]
    assert await counts(container) == before
    assert media_files(container.settings, item_id) == []
    assert await etag(client, "/menu/items") == tag


@pytest.mark.parametrize(
    ("content", "content_type", "issue"),
    [
        (b'{"file": "x"}', "application/json", "missing"),
        (b"garbage", "multipart/form-data", "invalid_multipart"),  # no boundary
        (
            b"--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.jpg\"\r\n\r\n"
            + JPEG + b"\r\n--b\r\nContent-Disposition: form-data; name=\"file\"; "
            b"filename=\"b.jpg\"\r\n\r\n" + JPEG + b"\r\n--b--\r\n",
            "multipart/form-data; boundary=b",
            "invalid_multipart",  # one file per upload
        ),
    ],
)  # fmt: skip
async def test_malformed_upload_bodies(client, container, content, content_type, issue):
    m = await small_menu(client, container)
    before = await counts(container)
    r = await client.post(
        f"{API}/admin/menu/items/{m.dosa['id']}/image",
        content=content,
        headers={**bearer(m.admin), "content-type": content_type},
    )
    err = assert_error(r, 400, "VALIDATION_ERROR")
    assert [(d["field"], d["issue"]) for d in err["details"]] == [("file", issue)]
    assert await counts(container) == before
    assert media_files(container.settings, m.dosa["id"]) == []


async def test_upload_roles_and_unknown_item(client, container):
    m = await small_menu(client, container)
    customer = await login_customer(client, container)
    kitchen = await kitchen_session(client, container)
    before = await counts(container)
    for session in (customer, kitchen):
        r = await upload(client, m.dosa["id"], session, JPEG)
        assert_error(r, 403, "INSUFFICIENT_ROLE")
    r = await client.post(
        f"{API}/admin/menu/items/{m.dosa['id']}/image", files={"file": ("a.jpg", JPEG)}
    )
    assert_error(r, 401, "INVALID_TOKEN")
    missing = "0b7a1f64-2d8e-4a39-9a51-6c0f1d2e3f40"
    r = await upload(client, missing, m.admin, JPEG)
    assert_error(r, 404, "NOT_FOUND")
    assert await counts(container) == before
    assert media_files(container.settings, m.dosa["id"]) == []
    assert media_files(container.settings, missing) == []


async def test_media_404_is_the_error_contract(client, container):
    r = await client.get("/media/menu/nothing/here.webp")
    assert_error(r, 404, "NOT_FOUND")


# ---- S3 (moto server mode) -----------------------------------------------------------


@pytest.fixture(scope="module")
def moto_endpoint() -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    s3 = s3_client(endpoint)
    s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
    # As deployed (docs/menu.md): objects are private to write, public to read.
    public_read = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": "*",
                "Action": "s3:GetObject",
                "Resource": f"arn:aws:s3:::{BUCKET}/menu/*",
            }
        ],
    }
    s3.put_bucket_policy(Bucket=BUCKET, Policy=json.dumps(public_read))
    try:
        yield endpoint
    finally:
        server.stop()


def s3_client(endpoint: str) -> Any:
    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id=CREDS["s3_access_key_id"],
        aws_secret_access_key=CREDS["s3_secret_access_key"],
        config=Config(signature_version="s3v4"),
    )


def keys(endpoint: str, prefix: str) -> list[str]:
    listed = s3_client(endpoint).list_objects_v2(Bucket=BUCKET, Prefix=prefix)
    return sorted(o["Key"] for o in listed.get("Contents", []))


async def test_images_on_s3(container, base_env, moto_endpoint):
    settings = make_settings(
        base_env,
        storage="s3",
        s3_bucket=BUCKET,
        s3_region=REGION,
        s3_endpoint_url=moto_endpoint,
        **CREDS,
    )
    s3c = build_container(settings, clock=container.clock)
    app = create_app(settings, container=s3c)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://s3app") as client:
            from conftest import login_staff

            admin = await login_staff(client, s3c, "admin", "+919000000101")
            await make_slots(client, admin)
            cat = await make_category(client, admin, "Snacks")
            item = await make_item(client, admin, cat, "Samosa", time_slots=["snacks"])
            prefix = f"menu/{item['id']}/"

            r = await upload(client, item["id"], admin, image_bytes("PNG", (1000, 1000), "RGBA"))
            assert r.status_code == 200, r.text
            first = r.json()["data"]
            base = f"{moto_endpoint}/{BUCKET}/{prefix}"
            assert first["image_url"].startswith(base) and first["thumbnail_url"].startswith(base)
            first_keys = keys(moto_endpoint, prefix)
            assert len(first_keys) == 2
            head = s3_client(moto_endpoint).head_object(Bucket=BUCKET, Key=first_keys[0])
            assert head["ContentType"] == "image/webp"
            assert head["CacheControl"] == "public, max-age=31536000, immutable"
            async with httpx.AsyncClient() as web:  # the public URL, over real HTTP
                got = await web.get(first["image_url"])
                assert got.status_code == 200 and webp_size(got.content) == (800, 800)
                got = await web.get(first["thumbnail_url"])
                assert webp_size(got.content) == (240, 240)

            # A bad upload writes no object.
            before = await counts(s3c)
            r = await upload(client, item["id"], admin, b"not an image at all", "x.png")
            assert_error(r, 400, "VALIDATION_ERROR")
            assert keys(moto_endpoint, prefix) == first_keys
            assert await counts(s3c) == before

            # A new image replaces the objects; the URL changes.
            r = await upload(client, item["id"], admin, image_bytes("JPEG", (640, 480)))
            second = r.json()["data"]
            assert second["image_url"] != first["image_url"]
            second_keys = keys(moto_endpoint, prefix)
            assert len(second_keys) == 2 and not set(second_keys) & set(first_keys)

            # No local media on an S3 deployment.
            assert_error(await client.get("/media/menu/x.webp"), 404, "NOT_FOUND")

            r = await client.delete(f"{API}/admin/menu/items/{item['id']}", headers=bearer(admin))
            assert r.status_code == 204
            assert keys(moto_endpoint, prefix) == []
    finally:
        await s3c.close()
