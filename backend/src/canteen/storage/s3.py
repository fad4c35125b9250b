"""Storage on Amazon S3 (or an S3-compatible endpoint) through boto3."""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import quote

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from canteen.storage.base import validate_key

# Keys are content-addressed (the hash is in the name), so an object never changes.
CACHE_CONTROL = "public, max-age=31536000, immutable"


class S3Storage:
    def __init__(
        self,
        bucket: str,
        region: str,
        *,
        endpoint_url: str | None = None,
        public_base_url: str | None = None,
        access_key_id: str | None = None,
        secret_access_key: str | None = None,
        timeout: float = 10.0,
    ) -> None:
        self.bucket = bucket
        self.region = region
        self.endpoint_url = endpoint_url.rstrip("/") if endpoint_url else None
        self.public_base_url = public_base_url.rstrip("/") if public_base_url else None
        config = Config(
            # Explicit SigV4 + region: without them boto3 may presign with SigV2.
            signature_version="s3v4",
            region_name=region,
            connect_timeout=timeout,
            read_timeout=timeout,
            retries={"max_attempts": 3, "mode": "standard"},
            # S3-compatible endpoints (MinIO, moto, localstack) generally need path style.
            s3={"addressing_style": "path"} if endpoint_url else None,
        )
        # A private Session: boto3's default session is not thread-safe; clients are.
        session = boto3.session.Session(
            aws_access_key_id=access_key_id,
            aws_secret_access_key=secret_access_key,
            region_name=region,
        )
        self._client: Any = session.client("s3", endpoint_url=endpoint_url, config=config)

    @property
    def client(self) -> Any:
        """The boto3 S3 client, e.g. for presigned uploads."""
        return self._client

    async def put(self, key: str, data: bytes, content_type: str) -> None:
        validate_key(key)
        await asyncio.to_thread(
            self._client.put_object,
            Bucket=self.bucket,
            Key=key,
            Body=data,
            ContentType=content_type,
            CacheControl=CACHE_CONTROL,
        )

    async def delete(self, key: str) -> None:
        validate_key(key)
        await asyncio.to_thread(self._client.delete_object, Bucket=self.bucket, Key=key)

    def url(self, key: str) -> str:
        path = quote("/".join(validate_key(key)))
        if self.public_base_url:
            return f"{self.public_base_url}/{path}"
        if self.endpoint_url:
            return f"{self.endpoint_url}/{self.bucket}/{path}"
        if "." in self.bucket:
            # Dotted bucket names break the *.s3 TLS wildcard certificate; use path style.
            return f"https://s3.{self.region}.amazonaws.com/{self.bucket}/{path}"
        return f"https://{self.bucket}.s3.{self.region}.amazonaws.com/{path}"

    async def exists(self, key: str) -> bool:
        validate_key(key)
        return await asyncio.to_thread(self._exists, key)

    def _exists(self, key: str) -> bool:
        try:
            self._client.head_object(Bucket=self.bucket, Key=key)
        except ClientError as exc:
            # HEAD responses have no body, so the status code is all there is.
            # (A missing bucket is also a 404; a 403 is raised, not read as "missing".)
            if exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") == 404:
                return False
            raise
        return True
