"""ImageStore on a local folder; the local server serves it publicly at /<key>, like an R2 public bucket."""

from __future__ import annotations

import asyncio
import os
import tempfile
from pathlib import Path

from imagegen.domain.errors import StorageError
from imagegen.domain.image_format import detect_image_format
from imagegen.domain.image_health import StoredObject
from imagegen.domain.models import ImageRef

SNIFF_BYTES = 16  # enough for every signature detect_image_format knows
UNKNOWN_TYPE = "application/octet-stream"


class LocalImageStore:
    def __init__(self, root: Path, base_url: str) -> None:
        self._root = root.resolve()
        self._root.mkdir(parents=True, exist_ok=True)
        self._base_url = base_url.rstrip("/")

    def public_url(self, key: str) -> str:
        # Same shape as R2: public base URL + object key. The local app serves keys under /images/.
        return f"{self._base_url}/{key}"

    def _path(self, key: str) -> Path:
        try:
            path = (self._root / key).resolve()
        except (ValueError, OSError) as exc:  # e.g. an embedded NUL byte
            raise StorageError(f"image key {key!r} is not a valid path") from exc
        if not path.is_relative_to(self._root) or path == self._root:
            raise StorageError(f"image key {key!r} escapes the image folder")
        return path

    async def put(self, key: str, data: bytes, content_type: str) -> ImageRef:
        path = self._path(key)
        try:
            await asyncio.to_thread(_atomic_write, path, data)
        except OSError as exc:
            raise StorageError(f"could not write image {key}: {exc}") from exc
        return ImageRef(key=key, url=self.public_url(key), content_type=content_type, size_bytes=len(data))

    async def get(self, key: str) -> tuple[bytes, str] | None:
        try:
            path = self._path(key)
            exists = path.is_file()
        except (StorageError, OSError):  # not a key we could have written (a name too long, say)
            return None
        if not exists:
            return None
        try:
            data = await asyncio.to_thread(path.read_bytes)
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise StorageError(f"could not read image {key}: {exc.strerror}") from exc
        fmt = detect_image_format(data)
        return data, fmt.content_type if fmt else UNKNOWN_TYPE

    async def stat(self, key: str) -> StoredObject | None:
        try:
            path = self._path(key)
            return await asyncio.to_thread(_stat, path)
        except StorageError:  # not a key we could have written
            return None
        except OSError as exc:
            raise StorageError(f"could not check image {key}: {exc.strerror}") from exc

    async def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)


def _stat(path: Path) -> StoredObject | None:
    """Size, and the type the first bytes say (a folder keeps no declared type, so the bytes are asked)."""
    try:
        with path.open("rb") as handle:
            size = os.fstat(handle.fileno()).st_size
            fmt = detect_image_format(handle.read(SNIFF_BYTES))
    except (FileNotFoundError, IsADirectoryError):
        return None
    return StoredObject(size_bytes=size, content_type=fmt.content_type if fmt else UNKNOWN_TYPE)


def _atomic_write(path: Path, data: bytes) -> None:
    # Write then rename, so a crash never leaves a half-written image behind a completed job.
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        Path(tmp).replace(path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
