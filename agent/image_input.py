"""One pod's images: taking them in, and handing them to the model.

:class:`ImageInput` stores the images of a turn's input
(:meth:`ImageInput.prepare`: ``image`` segments, and ``file`` segments that
name an image file), reads image files for ``read_file``, refuses images for a
model litellm says cannot see them, and gives the worker the data URLs of the
images in a request (:meth:`ImageInput.for_request`). The bytes live in the
:class:`~agent.image_store.ImageStore`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable, Sequence

from agent.errors import ToolError
from agent.image_store import ImageStore, read_image_file
from agent.images import ImageRef, ImageRejected, decode_data_url, is_image_name
from agent.items import Item, Message, ToolResult
from agent.llm.types import ModelInfo
from agent.segments import FileSegment, ImageSegment, Segment, images_of
from agent.tools.fs import ScopedFs


def _image_file(segment: Segment) -> str | None:
    """The path of a ``file`` segment that names a whole image file."""
    if isinstance(segment, FileSegment) and segment.range is None:
        return segment.path if is_image_name(segment.path) else None
    return None


def _as_image(segment: Segment) -> Segment:
    path = _image_file(segment)
    return segment if path is None else ImageSegment(kind="image", path=path)


def images_in(items: Iterable[Item]) -> list[ImageRef]:
    """Every stored image the items refer to (user input and tool results)."""
    refs: list[ImageRef] = []
    for item in items:
        if isinstance(item, Message) and item.segments:
            refs += images_of(item.segments)
        elif isinstance(item, ToolResult) and item.images:
            refs += item.images
    return refs


class ImageInput:
    """One pod's images: its store, its files, and whether its model sees."""

    def __init__(
        self,
        store: ImageStore,
        fs: ScopedFs,
        model: str,
        ask: Callable[[], Awaitable[ModelInfo]] | None = None,
    ) -> None:
        self.store = store
        self.fs = fs
        self.model = model
        self.ask = ask

    async def sees_images(self) -> bool | None:
        """litellm's ``supports_vision`` for the model; ``None`` when it does
        not know the model (a local server: images are sent and it decides)."""
        if self.ask is None:
            return None
        return (await self.ask()).supports_vision

    def refusal(self) -> str:
        return (
            f"The model {self.model} does not accept images (litellm's model map says it "
            "has no vision support). Remove the image, or use a model that supports vision."
        )

    async def prepare(self, segments: Sequence[Segment]) -> list[Segment]:
        """``segments`` with every new image stored (its ``data`` dropped,
        ``sha256``, ``mime`` and ``size`` set). Raises :class:`ImageRejected`
        naming the field (``input[2].path``) before anything is sent.

        A ``file`` segment that names an image file (``@shot.png``, no line
        range) is sent as the image, unless the model cannot see images
        (then it stays a file reference, which says it is not text)."""
        if not any(isinstance(s, ImageSegment) or _image_file(s) for s in segments):
            return list(segments)
        sees = await self.sees_images()
        if sees is not False:
            segments = [_as_image(s) for s in segments]
        images = [i for i, s in enumerate(segments) if isinstance(s, ImageSegment)]
        if not images:
            return list(segments)
        if sees is False:
            field = f"input[{images[0]}]"
            raise ImageRejected(f"`{field}`: {self.refusal()}", field=field)
        out: list[Segment] = []
        for index, segment in enumerate(segments):
            if isinstance(segment, ImageSegment) and segment.ref() is None:
                out.append(await self._store(index, segment))
            else:
                out.append(segment)
        return out

    async def _store(self, index: int, segment: ImageSegment) -> ImageSegment:
        if segment.data is not None:
            field = f"input[{index}].data"
            try:
                mime, data = await asyncio.to_thread(decode_data_url, segment.data)
            except ValueError as exc:
                raise ImageRejected(f"`{field}`: {exc}", field=field) from None
            name = segment.name
        else:
            assert segment.path is not None
            field = f"input[{index}].path"
            try:
                mime, data, shown = await self._read(segment.path)
            except ImageRejected as exc:
                raise ImageRejected(f"`{field}`: {exc}", field=field) from None
            name = segment.name or shown
        ref = await self.store.put(data, mime, name)
        update = {
            "data": None,
            "name": name,
            "sha256": ref.sha256,
            "mime": ref.mime,
            "size": ref.size,
        }
        return segment.model_copy(update=update)

    async def _read(self, raw: str) -> tuple[str, bytes, str]:
        try:
            path = self.fs.scope.check_read(raw)
        except ToolError as exc:
            raise ImageRejected(str(exc)) from None
        shown = self.fs.display(path)
        try:
            mime, data = await asyncio.to_thread(read_image_file, path, shown)
        except ValueError as exc:
            raise ImageRejected(str(exc)) from None
        return mime, data, shown

    async def read(self, raw: str) -> ImageRef:
        """Store an image file for ``read_file`` (raises :class:`ImageRejected`)."""
        mime, data, shown = await self._read(raw)
        return await self.store.put(data, mime, shown)

    async def for_request(self, items: Sequence[Item]) -> dict[str, str]:
        """The data URLs of the images in ``items`` (by SHA-256); none for a
        model that cannot see them (the request then says what was left out)."""
        refs = images_in(items)
        if not refs or await self.sees_images() is False:
            return {}
        urls: dict[str, str] = {}
        for ref in refs:
            if ref.sha256 not in urls:
                url = await self.store.data_url(ref)
                if url is not None:
                    urls[ref.sha256] = url
        return urls
