"""Storage backends: local files and S3 (against moto's server mode over real HTTP)."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from moto.server import ThreadedMotoServer

from canteen.storage import LocalStorage, build_storage, validate_key
from canteen.storage.s3 import CACHE_CONTROL, S3Storage

REGION = "ap-south-1"
BUCKET = "canteen-media-test"
CREDS = {"access_key_id": "testing-key-id", "secret_access_key": "testing-secret"}
KEY = "menu/item-1/0123456789abcdef-display.webp"

UNSAFE_KEYS = [
    "",
    "../escape.webp",
    "menu/../../escape.webp",
    "menu/./x.webp",
    "menu//x.webp",
    "menu/x/",
    "/etc/passwd",
    "C:/windows/x",
    "menu\\..\\x",
    "menu/x\x00.webp",
]


# --- LocalStorage -----------------------------------------------------------------------


@pytest.fixture
def local(tmp_path: Path) -> LocalStorage:
    return LocalStorage(tmp_path / "media", base_url="/media/")


def all_files(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


async def test_local_round_trip(local: LocalStorage) -> None:
    assert not await local.exists(KEY)
    await local.put(KEY, b"first", "image/webp")
    assert await local.exists(KEY)
    assert (local.root / KEY).read_bytes() == b"first"
    assert local.url(KEY) == f"/media/{KEY}"

    await local.put(KEY, b"second", "image/webp")  # overwrite
    assert (local.root / KEY).read_bytes() == b"second"
    assert os.stat(local.root / KEY).st_mode & 0o777 == 0o644

    await local.delete(KEY)
    assert not await local.exists(KEY)
    await local.delete(KEY)  # missing is fine


def test_local_url_quotes_and_uses_base(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path, base_url="https://cdn.example.com/m")
    assert storage.url("menu/a b/x.webp") == "https://cdn.example.com/m/menu/a%20b/x.webp"


@pytest.mark.parametrize("key", UNSAFE_KEYS)
async def test_local_rejects_keys_that_escape(local: LocalStorage, key: str) -> None:
    with pytest.raises(ValueError):
        await local.put(key, b"x", "image/webp")
    with pytest.raises(ValueError):
        await local.exists(key)
    with pytest.raises(ValueError):
        await local.delete(key)
    with pytest.raises(ValueError):
        local.url(key)
    assert not local.root.parent.joinpath("escape.webp").exists()
    assert not local.root.exists() or all_files(local.root) == []


async def test_local_rejects_symlink_escape(local: LocalStorage, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    local.root.mkdir(parents=True)
    (local.root / "menu").symlink_to(outside, target_is_directory=True)
    with pytest.raises(ValueError, match="escapes"):
        await local.put("menu/x.webp", b"x", "image/webp")
    assert list(outside.iterdir()) == []


async def test_local_atomic_write_leaves_no_temp_files(local: LocalStorage) -> None:
    keys = [f"menu/item-{i}/{i:016x}-display.webp" for i in range(5)]
    for key in keys:
        await local.put(key, key.encode(), "image/webp")
    assert all_files(local.root) == sorted(keys)


async def test_local_concurrent_writers_never_mix(local: LocalStorage) -> None:
    payloads = [bytes([i]) * 200_000 for i in range(16)]
    await asyncio.gather(*(local.put(KEY, p, "image/webp") for p in payloads))
    assert (local.root / KEY).read_bytes() in payloads
    assert all_files(local.root) == [KEY]


async def test_local_failed_write_cleans_up_temp_file(local: LocalStorage) -> None:
    (local.root / KEY).mkdir(parents=True)  # os.replace onto a directory fails
    with pytest.raises(OSError):
        await local.put(KEY, b"data", "image/webp")
    assert all_files(local.root) == []


def test_validate_key_returns_segments() -> None:
    assert validate_key(KEY) == ("menu", "item-1", "0123456789abcdef-display.webp")


# --- S3Storage against moto server mode -------------------------------------------------


@pytest.fixture(scope="module")
def moto_endpoint() -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    admin = boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id=CREDS["access_key_id"],
        aws_secret_access_key=CREDS["secret_access_key"],
        config=Config(signature_version="s3v4"),
    )
    admin.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
    try:
        yield endpoint
    finally:
        server.stop()


@pytest.fixture
def s3(moto_endpoint: str) -> S3Storage:
    return S3Storage(BUCKET, REGION, endpoint_url=moto_endpoint, timeout=5.0, **CREDS)


async def test_s3_put_exists_head_delete(s3: S3Storage) -> None:
    assert not await s3.exists(KEY)
    await s3.put(KEY, b"RIFF....WEBPVP8 ", "image/webp")
    assert await s3.exists(KEY)

    head = s3.client.head_object(Bucket=BUCKET, Key=KEY)
    assert head["ContentType"] == "image/webp"
    assert head["CacheControl"] == CACHE_CONTROL == "public, max-age=31536000, immutable"
    assert head["ContentLength"] == 16
    body = s3.client.get_object(Bucket=BUCKET, Key=KEY)["Body"].read()
    assert body == b"RIFF....WEBPVP8 "

    await s3.delete(KEY)
    assert not await s3.exists(KEY)
    await s3.delete(KEY)  # missing is fine


async def test_s3_requests_are_sigv4_in_the_region(s3: S3Storage) -> None:
    seen: list[str] = []

    def capture(request: Any, **_: Any) -> None:
        seen.append(request.headers["Authorization"].decode())

    s3.client.meta.events.register("before-send.s3", capture)
    await s3.put(KEY, b"x", "image/webp")
    await s3.delete(KEY)
    assert seen and all(a.startswith("AWS4-HMAC-SHA256 ") for a in seen)
    assert all(f"/{REGION}/s3/aws4_request" in a for a in seen)


def test_s3_client_config(s3: S3Storage) -> None:
    config = s3.client.meta.config
    assert config.signature_version == "s3v4"
    assert config.region_name == REGION
    assert config.connect_timeout == config.read_timeout == 5.0
    # botocore reads the legacy "max_attempts": 3 as 3 retries, i.e. 4 attempts in all.
    assert config.retries == {"total_max_attempts": 4, "mode": "standard"}
    assert config.s3 == {"addressing_style": "path"}


async def test_s3_errors_propagate(moto_endpoint: str) -> None:
    missing = S3Storage("no-such-bucket", REGION, endpoint_url=moto_endpoint, **CREDS)
    with pytest.raises(ClientError) as info:
        await missing.put(KEY, b"x", "image/webp")
    assert info.value.response["Error"]["Code"] == "NoSuchBucket"


@pytest.mark.parametrize("key", UNSAFE_KEYS)
async def test_s3_rejects_the_same_keys_as_local(s3: S3Storage, key: str) -> None:
    with pytest.raises(ValueError):
        await s3.put(key, b"x", "image/webp")
    with pytest.raises(ValueError):
        s3.url(key)


def test_s3_url_shapes(moto_endpoint: str) -> None:
    with_endpoint = S3Storage(BUCKET, REGION, endpoint_url=moto_endpoint + "/", **CREDS)
    assert with_endpoint.url(KEY) == f"{moto_endpoint}/{BUCKET}/{KEY}"

    cdn = S3Storage(
        BUCKET, REGION, endpoint_url=moto_endpoint, public_base_url="https://img.example.com/"
    )
    assert cdn.url(KEY) == f"https://img.example.com/{KEY}"

    aws = S3Storage(BUCKET, REGION, **CREDS)
    assert aws.url(KEY) == f"https://{BUCKET}.s3.{REGION}.amazonaws.com/{KEY}"
    assert aws.client.meta.config.s3 is None  # real S3: boto3 picks virtual-host style

    dotted = S3Storage("media.example.com", REGION, **CREDS)
    assert dotted.url(KEY) == f"https://s3.{REGION}.amazonaws.com/media.example.com/{KEY}"


# --- build_storage ----------------------------------------------------------------------

S3_NONE: dict[str, Any] = {
    "s3_bucket": None,
    "s3_region": None,
    "s3_endpoint_url": None,
    "s3_public_base_url": None,
    "s3_access_key_id": None,
    "s3_secret_access_key": None,
}


def test_build_local(tmp_path: Path) -> None:
    storage = build_storage("local", data_dir=tmp_path, media_base_url="/media", **S3_NONE)
    assert isinstance(storage, LocalStorage)
    assert storage.root == (tmp_path / "media").resolve()
    assert storage.url(KEY) == f"/media/{KEY}"


def test_build_s3(tmp_path: Path, moto_endpoint: str) -> None:
    settings = {
        **S3_NONE,
        "s3_bucket": BUCKET,
        "s3_region": REGION,
        "s3_endpoint_url": moto_endpoint,
        "s3_public_base_url": "https://img.example.com",
        "s3_access_key_id": "a",
        "s3_secret_access_key": "b",
    }
    storage = build_storage("s3", data_dir=tmp_path, media_base_url="/media", **settings)
    assert isinstance(storage, S3Storage)
    assert storage.url(KEY) == f"https://img.example.com/{KEY}"


@pytest.mark.parametrize(
    ("overrides", "named", "not_named"),
    [
        ({"s3_region": REGION}, "CANTEEN_S3_BUCKET", "CANTEEN_S3_REGION"),
        ({"s3_bucket": BUCKET}, "CANTEEN_S3_REGION", "CANTEEN_S3_BUCKET"),
        ({"s3_bucket": BUCKET, "s3_region": ""}, "CANTEEN_S3_REGION", "CANTEEN_S3_BUCKET"),
        ({}, "CANTEEN_S3_BUCKET and CANTEEN_S3_REGION", None),
    ],
)
def test_build_s3_names_missing_setting(
    tmp_path: Path, overrides: dict[str, str], named: str, not_named: str | None
) -> None:
    with pytest.raises(ValueError) as info:
        build_storage("s3", data_dir=tmp_path, media_base_url="/media", **{**S3_NONE, **overrides})
    assert named in str(info.value)
    if not_named:
        assert not_named not in str(info.value)


def test_build_s3_rejects_half_a_key_pair(tmp_path: Path) -> None:
    settings = {**S3_NONE, "s3_bucket": BUCKET, "s3_region": REGION, "s3_access_key_id": "a"}
    with pytest.raises(ValueError, match="CANTEEN_S3_SECRET_ACCESS_KEY"):
        build_storage("s3", data_dir=tmp_path, media_base_url="/media", **settings)


def test_build_unknown_kind(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="'gcs'"):
        build_storage("gcs", data_dir=tmp_path, media_base_url="/media", **S3_NONE)
