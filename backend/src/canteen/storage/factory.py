"""Pick the storage backend from settings (`CANTEEN_STORAGE=local|s3`)."""

from __future__ import annotations

from pathlib import Path

from canteen.storage.base import Storage
from canteen.storage.local import LocalStorage


def build_storage(
    kind: str,
    *,
    data_dir: Path,
    media_base_url: str,
    s3_bucket: str | None,
    s3_region: str | None,
    s3_endpoint_url: str | None,
    s3_public_base_url: str | None,
    s3_access_key_id: str | None,
    s3_secret_access_key: str | None,
) -> Storage:
    if kind == "local":
        return LocalStorage(data_dir / "media", base_url=media_base_url)
    if kind == "s3":
        missing = [
            name
            for name, value in (("CANTEEN_S3_BUCKET", s3_bucket), ("CANTEEN_S3_REGION", s3_region))
            if not value
        ]
        if missing:
            raise ValueError(f"CANTEEN_STORAGE=s3 needs {' and '.join(missing)} to be set")
        if bool(s3_access_key_id) != bool(s3_secret_access_key):
            # Half a key pair would silently fall back to boto3's default credential chain.
            raise ValueError(
                "Set both CANTEEN_S3_ACCESS_KEY_ID and CANTEEN_S3_SECRET_ACCESS_KEY, or neither "
                "(to use the default AWS credential chain)"
            )
        assert s3_bucket and s3_region  # narrowed by the check above

        from canteen.storage.s3 import S3Storage  # boto3 import only when S3 is used

        return S3Storage(
            s3_bucket,
            s3_region,
            endpoint_url=s3_endpoint_url,
            public_base_url=s3_public_base_url,
            access_key_id=s3_access_key_id,
            secret_access_key=s3_secret_access_key,
        )
    raise ValueError(f"Unknown storage kind {kind!r}; CANTEEN_STORAGE must be 'local' or 's3'")
