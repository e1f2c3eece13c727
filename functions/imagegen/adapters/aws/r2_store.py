"""ImageStore on Cloudflare R2 through its S3-compatible API (boto3).

R2 has no object ACLs: objects are public through the bucket's public base URL (custom domain or
r2.dev), so a reference's URL is that base plus the key.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from imagegen.domain.errors import StorageError
from imagegen.domain.image_health import StoredObject
from imagegen.domain.models import ImageRef

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

R = TypeVar("R")


def r2_endpoint(account_id: str, jurisdiction: str | None = None) -> str:
    """`https://<account>.r2.cloudflarestorage.com`, with the jurisdiction label before the domain."""
    label = (jurisdiction or "").strip().lower()
    if label in ("", "default"):
        return f"https://{account_id}.r2.cloudflarestorage.com"
    return f"https://{account_id}.{label}.r2.cloudflarestorage.com"


# botocore >= 1.36 adds CRC checksums (and aws-chunked uploads) that R2 rejects; these options turn them
# off. Older botocore has neither the checksums nor the options, and refuses options it does not know, so
# they are passed only where they exist. The Lambda runtime's bundled botocore is not pinned by AWS.
CHECKSUM_OPTIONS = {
    "request_checksum_calculation": "when_required",
    "response_checksum_validation": "when_required",
}


def r2_client_config() -> Config:
    known = getattr(Config, "OPTION_DEFAULTS", {})
    options: dict[str, Any] = {
        "retries": {"mode": "standard", "max_attempts": 3},
        "connect_timeout": 5,
        "read_timeout": 30,
    }
    options.update({name: value for name, value in CHECKSUM_OPTIONS.items() if name in known})
    return Config(**options)


def make_r2_client(
    account_id: str, access_key_id: str, secret_access_key: str, jurisdiction: str | None = None
) -> S3Client:
    return boto3.client(
        "s3",
        endpoint_url=r2_endpoint(account_id, jurisdiction),
        aws_access_key_id=access_key_id,
        aws_secret_access_key=secret_access_key,
        region_name="auto",
        config=r2_client_config(),
    )


class R2ImageStore:
    def __init__(self, bucket: str, public_base_url: str, client: S3Client) -> None:
        self._bucket = bucket
        self._base_url = public_base_url.rstrip("/")
        self._client = client

    def public_url(self, key: str) -> str:
        return f"{self._base_url}/{key}"

    async def put(self, key: str, data: bytes, content_type: str) -> ImageRef:
        def put() -> None:
            self._client.put_object(
                Bucket=self._bucket,
                Key=key,
                Body=data,
                ContentType=content_type,
                # Keys are derived from job ids and never rewritten with other content.
                CacheControl="public, max-age=31536000, immutable",
            )

        await self._call(put, f"could not store image {key}")
        return ImageRef(key=key, url=self.public_url(key), content_type=content_type, size_bytes=len(data))

    async def get(self, key: str) -> tuple[bytes, str] | None:
        def get() -> tuple[bytes, str] | None:
            response = _none_if_missing(lambda: self._client.get_object(Bucket=self._bucket, Key=key))
            if response is None:
                return None
            body = response["Body"]
            try:
                return body.read(), response.get("ContentType") or "application/octet-stream"
            finally:
                body.close()

        return await self._call(get, f"could not read image {key}")

    async def stat(self, key: str) -> StoredObject | None:
        def head() -> StoredObject | None:
            response = _none_if_missing(lambda: self._client.head_object(Bucket=self._bucket, Key=key))
            if response is None:
                return None
            return StoredObject(
                size_bytes=response.get("ContentLength", 0),
                content_type=response.get("ContentType") or "application/octet-stream",
            )

        return await self._call(head, f"could not check image {key}")

    async def delete(self, key: str) -> None:
        def delete() -> None:
            # S3 and R2 answer 204 for a missing key too, which is the port's contract.
            self._client.delete_object(Bucket=self._bucket, Key=key)

        await self._call(delete, f"could not delete image {key}")

    async def _call(self, fn: Callable[[], R], what: str) -> R:
        try:
            return await asyncio.to_thread(fn)
        except ClientError as exc:
            error = exc.response.get("Error", {})
            raise StorageError(f"{what}: {error.get('Code', 'error')}: {error.get('Message', '')}") from None
        except BotoCoreError as exc:
            raise StorageError(f"{what}: {exc}") from None


def _none_if_missing(call: Callable[[], R]) -> R | None:
    try:
        return call()
    except ClientError as exc:
        # GetObject names the code; HeadObject has no body, so only the status shows.
        if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404", "NotFound"):
            return None
        raise
