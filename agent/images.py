"""Images as input: what an image is to yoi, checked without any I/O.

An image reaches the model as the user's ``image`` segment (a workspace path
or a data URL, see :class:`agent.segments.ImageSegment`) or as what
``read_file`` returned for an image file. Either way it is PNG, JPEG, GIF or
WebP (told by its first bytes, not by its name or claimed type) and at most
:data:`MAX_IMAGE_BYTES` once decoded.

In the session log and in history an image is an :class:`ImageRef`: its
SHA-256, type and size. The bytes live once, content-addressed, in the image
store (:mod:`agent.image_store`), and go to the model as a data URL only while
a request is built.
"""

from __future__ import annotations

import base64
import binascii
import re

from pydantic import BaseModel, ConfigDict, Field

from agent.errors import ToolError

MAX_IMAGE_BYTES = 5 * 1024 * 1024
LIMIT_TEXT = "5 MB"
IMAGE_TYPES: dict[str, str] = {
    "image/png": "PNG",
    "image/jpeg": "JPEG",
    "image/gif": "GIF",
    "image/webp": "WebP",
}
EXTENSIONS: dict[str, str] = {
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".webp": "image/webp",
}
SUPPORTED = "PNG, JPEG, GIF or WebP"
_DATA_URL = re.compile(r"^data:(?P<mime>[\w.+-]+/[\w.+-]+)(?P<params>(?:;[^;,]*)*?);base64,")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_CHUNK = 64 * 1024  # base64 work per step: well under a millisecond


class ImageRejected(ToolError):
    """An image that cannot be sent: unreadable, too large, not an image of a
    supported type, or for a model that does not accept images. ``field``
    names the offending input field (``path``, ``data``) when there is one."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class ImageRef(BaseModel):
    """A stored image: what the log, history and the wire know of it."""

    model_config = ConfigDict(frozen=True)
    sha256: str = Field(pattern=_SHA256.pattern)
    mime: str
    size: int = Field(ge=0)
    name: str | None = None  # a path or a label, for people

    def label(self) -> str:
        return self.name or f"{IMAGE_TYPES.get(self.mime, 'image')} image"


def sniff(data: bytes) -> str | None:
    """The image type told by the first bytes, or ``None``."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


def is_image_name(name: str) -> bool:
    """Whether a file name has one of the image extensions yoi sends."""
    dot = name.rfind(".")
    return dot >= 0 and name[dot:].lower() in EXTENSIONS


def too_large(size: int, what: str) -> str:
    return (
        f"{what} is {size:,} bytes; images are limited to {LIMIT_TEXT} "
        f"({MAX_IMAGE_BYTES:,} bytes) after decoding"
    )


def check_data_url_header(url: str) -> None:
    """Cheap checks of a data URL (raises ``ValueError``): the scheme, a
    supported type, base64, and the size its length implies."""
    match = _DATA_URL.match(url)
    if match is None:
        raise ValueError(
            f"must be a base64 data URL (data:image/png;base64,...) of a {SUPPORTED} image"
        )
    mime = match["mime"].lower()
    if mime not in IMAGE_TYPES:
        raise ValueError(f"has type {mime}; images must be {SUPPORTED}")
    payload = len(url) - match.end()
    estimated = payload * 3 // 4
    if estimated > MAX_IMAGE_BYTES + 3:
        raise ValueError(too_large(estimated, "the image"))


def decode_data_url(url: str) -> tuple[str, bytes]:
    """The type and bytes of a data URL (raises ``ValueError``); the bytes
    must be an image of the type the URL claims."""
    check_data_url_header(url)
    match = _DATA_URL.match(url)
    assert match is not None
    payload = url[match.end() :]
    try:
        data = b"".join(
            binascii.a2b_base64(payload[i : i + _CHUNK * 4], strict_mode=True)
            for i in range(0, len(payload), _CHUNK * 4)
        )
    except (binascii.Error, ValueError):
        raise ValueError("the image is not valid base64") from None
    return checked(data, "the image"), data


def checked(data: bytes, what: str) -> str:
    """The type of ``data`` if it is an image yoi sends (raises ``ValueError``)."""
    if len(data) > MAX_IMAGE_BYTES:
        raise ValueError(too_large(len(data), what))
    mime = sniff(data)
    if mime is None:
        raise ValueError(f"{what} is not a {SUPPORTED} image")
    return mime


def data_url(mime: str, data: bytes) -> str:
    """``data:<mime>;base64,…``; built in chunks, so a thread doing it lets
    the event loop run between them (one call on 5 MB holds the GIL ~20 ms)."""
    parts = [f"data:{mime};base64,"]
    for i in range(0, len(data), _CHUNK * 3):
        parts.append(base64.b64encode(data[i : i + _CHUNK * 3]).decode("ascii"))
    return "".join(parts)


def describe(ref: ImageRef) -> str:
    """One line for people and for models that cannot see it."""
    kind = IMAGE_TYPES.get(ref.mime, "image")
    return f"{ref.label()} ({kind}, {ref.size:,} bytes)"
