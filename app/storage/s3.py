"""Files in an S3-compatible object store (AWS S3, MinIO, Garage, Ceph RGW...), shared by every Folio process.

Nothing is held in memory whole: files are uploaded from local disk in parts (multipart above PART_BYTES, which
s3transfer aborts on failure, so a failed upload leaves no object), read as streams, downloads of a byte range are
a ranged GET, and copies are server-side (CopyObject / UploadPartCopy).
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

from botocore.exceptions import BotoCoreError, ClientError

from app.storage.base import (READ_CHUNK_BYTES, TRASH, ObjectInfo, Storage, StorageError, check_key,
                              utc_timestamp)

PART_BYTES = 16 * 1024 * 1024  # multipart threshold and part size: 100 MB photo/video → 7 parts
TRANSFER_THREADS = 4  # parts sent at once per file
DELETE_BATCH = 1000  # most keys one DeleteObjects may name
_MISSING = ("NoSuchKey", "404", "NotFound")


def _missing(error: ClientError) -> bool:
    return str(error.response.get("Error", {}).get("Code")) in _MISSING


class _Body(io.RawIOBase):
    """A botocore streaming body as a standard binary reader (for shutil.copyfileobj, zipfile, Pillow...)."""

    def __init__(self, body) -> None:
        self._body = body

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        data = self._body.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        if not self.closed:
            self._body.close()
        super().close()


class S3Storage(Storage):
    """Keys live under `prefix` in `bucket` (prefix "" or ending in "/")."""

    def __init__(self, *, client, bucket: str, prefix: str, scratch_dir: Path) -> None:
        from boto3.s3.transfer import TransferConfig

        self.client = client
        self.bucket = bucket
        self.prefix = prefix
        self.scratch_dir = scratch_dir
        self.transfer = TransferConfig(multipart_threshold=PART_BYTES, multipart_chunksize=PART_BYTES,
                                       max_concurrency=TRANSFER_THREADS, use_threads=True)

    def __repr__(self) -> str:
        return f"S3Storage('s3://{self.bucket}/{self.prefix}')"

    def object_key(self, key: str) -> str:
        """The object's full key in the bucket."""
        return self.prefix + check_key(key)

    def put_file(self, key: str, source: Path, *, content_type: str | None = None) -> None:
        extra = {"ContentType": content_type} if content_type else None
        try:
            self.client.upload_file(str(source), self.bucket, self.object_key(key), ExtraArgs=extra,
                                    Config=self.transfer)
        except (BotoCoreError, ClientError) as error:
            raise StorageError(f"Could not store {key}: {error}") from error
        finally:
            Path(source).unlink(missing_ok=True)

    def _get(self, key: str, *, trashed: bool = False, **range_args):
        what = f"{key} from the trash" if trashed else key
        object_key = self.trash_key(key) if trashed else self.object_key(key)
        try:
            return self.client.get_object(Bucket=self.bucket, Key=object_key, **range_args)
        except ClientError as error:
            if _missing(error):
                raise FileNotFoundError(key) from None
            raise StorageError(f"Could not read {what}: {error}") from error
        except BotoCoreError as error:
            raise StorageError(f"Could not read {what}: {error}") from error

    def open(self, key: str) -> BinaryIO:
        return io.BufferedReader(_Body(self._get(key)["Body"]), buffer_size=READ_CHUNK_BYTES)

    def info(self, key: str) -> ObjectInfo | None:
        try:
            head = self.client.head_object(Bucket=self.bucket, Key=self.object_key(key))
        except ValueError:
            return None
        except ClientError as error:
            if _missing(error):
                return None
            raise StorageError(f"Could not look up {key}: {error}") from error
        except BotoCoreError as error:
            raise StorageError(f"Could not look up {key}: {error}") from error
        return ObjectInfo(size=int(head["ContentLength"]), modified=head.get("LastModified"), etag=head.get("ETag"))

    def iter_range(self, key: str, start: int = 0, end: int | None = None) -> Iterator[bytes]:
        ranged = {"Range": f"bytes={start}-{'' if end is None else end}"} if start or end is not None else {}
        body = self._get(key, **ranged)["Body"]
        try:
            yield from body.iter_chunks(READ_CHUNK_BYTES)
        finally:
            body.close()

    def delete(self, keys: Iterable[str]) -> None:
        names = []
        for key in keys:
            try:
                names.append(self.object_key(key))
            except ValueError:
                continue  # never an object outside the prefix, whatever the database says
        self._delete_objects(names)

    def _delete_objects(self, names: list[str]) -> None:
        for start in range(0, len(names), DELETE_BATCH):
            batch = [{"Key": name} for name in names[start:start + DELETE_BATCH]]
            try:
                result = self.client.delete_objects(Bucket=self.bucket, Delete={"Objects": batch, "Quiet": True})
            except (BotoCoreError, ClientError) as error:
                raise StorageError(f"Could not delete {len(batch)} files: {error}") from error
            if result.get("Errors"):
                raise StorageError(f"Could not delete {result['Errors'][0].get('Key')}: {result['Errors'][0]}")

    def trash_key(self, key: str) -> str:
        """The trashed object's full key in the bucket (outside the keys list() and check_key allow)."""
        return f"{self.prefix}{TRASH}/{check_key(key)}"

    def trash(self, keys: Iterable[str]) -> None:
        moved = []
        for key in keys:
            try:
                source = {"Bucket": self.bucket, "Key": self.object_key(key)}
                target = self.trash_key(key)
            except ValueError:
                continue
            # A server-side copy gets a new LastModified: the time of deletion, which the purge reads.
            try:
                self.client.copy(source, self.bucket, target, Config=self.transfer)
            except ClientError as error:
                if _missing(error):
                    continue  # already gone (another process trashed it first)
                raise StorageError(f"Could not move {key} to the trash: {error}") from error
            except BotoCoreError as error:
                raise StorageError(f"Could not move {key} to the trash: {error}") from error
            moved.append(key)
        self.delete(moved)

    def open_trashed(self, key: str) -> BinaryIO:
        return io.BufferedReader(_Body(self._get(key, trashed=True)["Body"]), buffer_size=READ_CHUNK_BYTES)

    def purge_trash(self, *, deleted_before: datetime) -> int:
        cutoff = utc_timestamp(deleted_before)
        old = [name for name, info in self._scan_objects(f"{self.prefix}{TRASH}/").items()
               if info.modified is not None and info.modified.timestamp() < cutoff]
        self._delete_objects(old)  # deleting what another sweep deleted first is no error in S3
        return len(old)

    def scan(self, prefix: str = "") -> dict[str, ObjectInfo]:
        found = {}
        for name, info in self._scan_objects(self.prefix + prefix).items():
            key = name[len(self.prefix):]
            if not key.startswith("."):
                found[key] = info
        return found

    def _scan_objects(self, prefix: str) -> dict[str, ObjectInfo]:
        found = {}
        try:
            for page in self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix):
                for item in page.get("Contents", ()):
                    found[item["Key"]] = ObjectInfo(size=int(item["Size"]), modified=item.get("LastModified"),
                                                    etag=item.get("ETag"))
        except (BotoCoreError, ClientError) as error:
            raise StorageError(f"Could not list {prefix}: {error}") from error
        return found

    def copy(self, source_key: str, destination_key: str) -> None:
        source = {"Bucket": self.bucket, "Key": self.object_key(source_key)}
        try:
            self.client.copy(source, self.bucket, self.object_key(destination_key), Config=self.transfer)
        except ClientError as error:
            if _missing(error):
                raise FileNotFoundError(source_key) from None
            raise StorageError(f"Could not copy {source_key}: {error}") from error
        except BotoCoreError as error:
            raise StorageError(f"Could not copy {source_key}: {error}") from error

    def list(self, prefix: str = "") -> list[str]:
        keys = []
        paginator = self.client.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self.bucket, Prefix=self.prefix + prefix):
            keys.extend(item["Key"][len(self.prefix):] for item in page.get("Contents", ())
                        if not item["Key"][len(self.prefix):].startswith("."))  # the trash is not stored files
        return sorted(keys)

    @contextmanager
    def local_copy(self, key: str) -> Iterator[Path]:
        path = self.new_scratch_path(Path(key).suffix or ".bin")
        try:
            try:
                self.client.download_file(self.bucket, self.object_key(key), str(path), Config=self.transfer)
            except ClientError as error:
                if _missing(error):
                    raise FileNotFoundError(key) from None
                raise StorageError(f"Could not read {key}: {error}") from error
            yield path
        finally:
            path.unlink(missing_ok=True)
