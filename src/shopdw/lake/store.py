"""One interface over a local folder and S3 (any S3 API endpoint).

Files are immutable: writing different content under an existing name is refused, the same
content is a no-op (so re-generating a day is idempotent). Writes are atomic: locally a
temporary name in the same folder, then a hard link to the final name (which also refuses
to replace an existing file); on S3 one PUT, which is never visible half-written.
"""

from __future__ import annotations

import hashlib
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Literal

from shopdw.errors import ConfigError, LakeError, TransientError

WriteOutcome = Literal["written", "unchanged"]


@dataclass(frozen=True)
class LakeFile:
    path: str  # relative to the lake root, '/'-separated
    size: int


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class Lake:
    """Abstract lake. Paths are relative to the root and use '/'."""

    uri: str

    def put(self, path: str, data: bytes) -> WriteOutcome:
        raise NotImplementedError

    def get(self, path: str) -> bytes:
        raise NotImplementedError

    def exists(self, path: str) -> bool:
        raise NotImplementedError

    def list(self, prefix: str = "raw/") -> list[LakeFile]:
        """Every file under prefix, sorted by path; temporary files are never listed."""
        raise NotImplementedError

    def url(self, path: str) -> str:
        """Where a file lives, for messages and lineage (absolute path or s3:// URI)."""
        raise NotImplementedError

    def _check_immutable(self, path: str, data: bytes, existing: bytes) -> WriteOutcome:
        if existing == data:
            return "unchanged"
        raise LakeError(
            f"{self.url(path)} already exists with different content "
            f"(sha256 {sha256(existing)[:12]} vs new {sha256(data)[:12]}); lake files are immutable: "
            "write the change as a new batch id instead of replacing the file"
        )


def _check_rel(path: str) -> str:
    parts = path.split("/")
    if path.startswith("/") or any(p in ("", ".", "..") for p in parts):
        raise ValueError(f"lake path {path!r} must be relative, without '.', '..' or empty parts")
    return path


class LocalLake(Lake):
    def __init__(self, root: str | os.PathLike[str]):
        self.root = Path(root).resolve()
        self.uri = str(self.root)

    def _abs(self, path: str) -> Path:
        return self.root / _check_rel(path)

    def url(self, path: str) -> str:
        return str(self._abs(path))

    def put(self, path: str, data: bytes) -> WriteOutcome:
        final = self._abs(path)
        if final.exists():
            return self._check_immutable(path, data, final.read_bytes())
        final.parent.mkdir(parents=True, exist_ok=True)
        tmp = final.parent / f".{final.name}.tmp-{os.getpid()}-{secrets.token_hex(4)}"
        try:
            with open(tmp, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            try:
                os.link(tmp, final)  # atomic, and fails instead of replacing a file that appeared meanwhile
            except FileExistsError:
                return self._check_immutable(path, data, final.read_bytes())
            dir_fd = os.open(final.parent, os.O_RDONLY)
            try:
                os.fsync(dir_fd)
            finally:
                os.close(dir_fd)
        finally:
            tmp.unlink(missing_ok=True)
        return "written"

    def get(self, path: str) -> bytes:
        try:
            return self._abs(path).read_bytes()
        except FileNotFoundError:
            raise LakeError(f"{self.url(path)}: no such lake file") from None

    def exists(self, path: str) -> bool:
        return self._abs(path).is_file()

    def list(self, prefix: str = "raw/") -> list[LakeFile]:
        base = self.root / prefix.rstrip("/") if prefix else self.root
        if not base.exists():
            return []
        out = []
        for dirpath, dirnames, filenames in os.walk(base):
            dirnames[:] = [d for d in dirnames if not d.startswith(".")]
            for name in filenames:
                if name.startswith("."):
                    continue  # temporary or hidden
                p = Path(dirpath) / name
                out.append(LakeFile(p.relative_to(self.root).as_posix(), p.stat().st_size))
        out.sort(key=lambda f: f.path)
        return out


class S3Lake(Lake):
    """s3://bucket/prefix through boto3 (one PUT per file). Endpoint and region from settings."""

    def __init__(self, uri: str, endpoint_url: str | None = None, region: str | None = None):
        import boto3
        from botocore.config import Config

        rest = uri[len("s3://") :]
        bucket, _, prefix = rest.partition("/")
        if not bucket:
            raise ConfigError(f"lake {uri!r}: expected s3://bucket[/prefix]")
        self.bucket = bucket
        self.prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""
        self.uri = f"s3://{bucket}/{self.prefix}".rstrip("/")
        self.client = boto3.client(
            "s3",
            endpoint_url=endpoint_url,
            region_name=region or os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1",
            config=Config(retries={"max_attempts": 5, "mode": "standard"}),
        )

    def _key(self, path: str) -> str:
        return self.prefix + _check_rel(path)

    def url(self, path: str) -> str:
        return f"s3://{self.bucket}/{self._key(path)}"

    def _call(self, fn, *args, **kw):
        from botocore.exceptions import BotoCoreError, ClientError, EndpointConnectionError

        try:
            return fn(*args, **kw)
        except EndpointConnectionError as e:
            raise TransientError(f"S3 endpoint unreachable ({e}); check SHOPDW_S3_ENDPOINT and the network") from None
        except ClientError as e:
            code = e.response.get("Error", {}).get("Code", "")
            if code in ("NoSuchBucket",):
                raise ConfigError(f"lake bucket {self.bucket!r} does not exist; create it or fix SHOPDW_LAKE") from None
            if code in ("AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch"):
                raise ConfigError(f"S3 refused access to {self.uri} ({code}); check AWS credentials") from None
            raise
        except BotoCoreError as e:
            raise TransientError(f"S3 error on {self.uri}: {e}") from None

    def put(self, path: str, data: bytes) -> WriteOutcome:
        key = self._key(path)
        if self.exists(path):
            return self._check_immutable(path, data, self.get(path))
        self._call(self.client.put_object, Bucket=self.bucket, Key=key, Body=data)
        return "written"

    def get(self, path: str) -> bytes:
        from botocore.exceptions import ClientError

        try:
            return self._call(self.client.get_object, Bucket=self.bucket, Key=self._key(path))["Body"].read()
        except ClientError as e:
            if e.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                raise LakeError(f"{self.url(path)}: no such lake file") from None
            raise

    def exists(self, path: str) -> bool:
        from botocore.exceptions import ClientError

        try:
            self._call(self.client.head_object, Bucket=self.bucket, Key=self._key(path))
            return True
        except ClientError as e:
            if e.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return False
            raise

    def _iter(self, prefix: str) -> Iterator[LakeFile]:
        paginator = self.client.get_paginator("list_objects_v2")
        for page in self._call(lambda: list(paginator.paginate(Bucket=self.bucket, Prefix=self.prefix + prefix))):
            for obj in page.get("Contents", []):
                rel = obj["Key"][len(self.prefix) :]
                if rel.rsplit("/", 1)[-1].startswith("."):
                    continue
                yield LakeFile(rel, int(obj["Size"]))

    def list(self, prefix: str = "raw/") -> list[LakeFile]:
        return sorted(self._iter(prefix), key=lambda f: f.path)


def open_lake(uri: str, endpoint_url: str | None = None, region: str | None = None) -> Lake:
    """A lake from a URI: a local folder (created on first write) or s3://bucket/prefix."""
    if uri.startswith("s3://"):
        return S3Lake(uri, endpoint_url=endpoint_url, region=region)
    if "://" in uri:
        raise ConfigError(f"lake {uri!r}: only local folders and s3:// URIs are supported")
    return LocalLake(uri)


def lake_from_settings(settings) -> Lake:
    return open_lake(settings.lake, endpoint_url=settings.s3_endpoint, region=settings.s3_region)
