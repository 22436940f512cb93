"""``yoi/image/get {sha256}``: a stored image — an ``image`` segment's or
one a tool returned — as a data URL, for a client redrawing a chat after a
reload (history carries only the image's hash, type and size). Answers
``{mime, size, dataUrl}``; ``-32602`` for a malformed hash or an image that is
not stored."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from agent import paths
from agent.image_store import ImageStore
from server import payloads as pl
from server import protocol as p
from server.app import YoiServer
from server.errors import maps_errors
from server.protocol import InvalidParams


class ImageGetParams(pl.Params):
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")


@maps_errors(p.IMAGE_GET)
async def image_get(ls: YoiServer, params: Any) -> dict[str, Any]:
    sha = pl.parse(p.IMAGE_GET, ImageGetParams, params).sha256
    found = await ImageStore(paths.sessions_dir(ls.home) / "images").load(sha)
    if found is None:
        raise InvalidParams(p.IMAGE_GET, f"`sha256`: no image {sha} is stored")
    ref, url = found
    return {"mime": ref.mime, "size": ref.size, "dataUrl": url}
