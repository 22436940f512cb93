"""Typed user input (PROTOCOL.md, "Segments") and its flattening to text.

A turn's input is a list of segments. They are logged as typed data (so a client
can redraw chips for files and pastes) together with the text they flattened to
(so a restore never re-reads files that may have changed since).

Flattening is pure: :func:`flatten` takes the segments and, for the ones that
refer to something (``file``, ``knowledge``, ``workflow``), the
:class:`Attachment` a resolver produced (see :mod:`agent.input`).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, field_validator, model_validator

from agent.images import ImageRef, check_data_url_header


class _Segment(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore", populate_by_name=True)


class Position(BaseModel):
    """An LSP position: 0-based line and character."""

    model_config = ConfigDict(frozen=True)
    line: int = Field(ge=0)
    character: int = Field(ge=0)


class Range(BaseModel):
    """An LSP range; ``end`` is exclusive, like LSP's own."""

    model_config = ConfigDict(frozen=True)
    start: Position
    end: Position

    def line_span(self) -> tuple[int, int]:
        """1-based inclusive first and last line covered by the range.

        An end at character 0 of a later line does not include that line (the
        usual shape of a whole-line selection)."""
        first = self.start.line + 1
        last = self.end.line + 1
        if self.end.character == 0 and self.end.line > self.start.line:
            last -= 1
        return first, max(first, last)


class TextSegment(_Segment):
    kind: Literal["text"]
    text: str


class PasteSegment(_Segment):
    kind: Literal["paste"]
    text: str
    label: str | None = None


class FileSegment(_Segment):
    kind: Literal["file"]
    path: str = Field(min_length=1)
    range: Range | None = None


class KnowledgeSegment(_Segment):
    kind: Literal["knowledge"]
    slug: str = Field(min_length=1)


class WorkflowSegment(_Segment):
    kind: Literal["workflow"]
    slug: str = Field(min_length=1)


class ImageSegment(_Segment):
    """An image: a workspace ``path`` or a ``data`` URL as the user gave it.

    Before a turn is logged the image is stored (:mod:`agent.image_store`)
    and the segment keeps ``sha256``, ``mime`` and ``size`` instead of
    ``data``, so the log holds a reference, not megabytes of base64. ``name``
    labels a pasted image (its file name)."""

    kind: Literal["image"]
    path: str | None = Field(default=None, min_length=1)
    data: str | None = None
    name: str | None = None
    mime: str | None = None
    size: int | None = None
    sha256: str | None = None

    @field_validator("data")
    @classmethod
    def _data_url(cls, value: str | None) -> str | None:
        if value is not None:
            check_data_url_header(value)
        return value

    @model_validator(mode="after")
    def _one_source(self) -> ImageSegment:
        if self.sha256 is None and (self.path is None) == (self.data is None):
            raise ValueError("an image needs exactly one of path or data")
        return self

    def ref(self) -> ImageRef | None:
        """The stored image, once the segment has been stored."""
        if self.sha256 is None or self.mime is None or self.size is None:
            return None
        return ImageRef(sha256=self.sha256, mime=self.mime, size=self.size, name=self.label())

    def label(self) -> str:
        return self.name or self.path or "pasted image"


Segment = Annotated[
    TextSegment | PasteSegment | FileSegment | KnowledgeSegment | WorkflowSegment | ImageSegment,
    Field(discriminator="kind"),
]
SegmentListAdapter: TypeAdapter[list[Segment]] = TypeAdapter(list[Segment])


def load_segments(data: Any) -> list[Segment]:
    return SegmentListAdapter.validate_python(data)


def images_of(segments: list[Segment]) -> list[ImageRef]:
    """The stored images among ``segments``, in order."""
    refs = (s.ref() for s in segments if isinstance(s, ImageSegment))
    return [ref for ref in refs if ref is not None]


def dump_segments(segments: list[Segment]) -> list[dict[str, Any]]:
    return [s.model_dump(mode="json", exclude_none=True) for s in segments]


class Attachment(BaseModel):
    """What a referring segment resolved to: a titled block of text, or a
    placeholder (``ok=False``) that tells the model what could not be attached."""

    model_config = ConfigDict(frozen=True)
    title: str
    body: str
    ok: bool = True


def mention(segment: Segment) -> str:
    """How a referring segment reads inline, like the user typed it."""
    match segment:
        case FileSegment(path=path, range=None):
            return f"@{path}"
        case FileSegment(path=path, range=rng) if rng is not None:
            first, last = rng.line_span()
            return f"@{path}:{first}-{last}"
        case KnowledgeSegment(slug=slug):
            return f"#{slug}"
        case WorkflowSegment(slug=slug):
            return f"/{slug}"
        case ImageSegment():
            return f"[image: {segment.label()}]"
        case _:
            return ""


def fence(body: str, info: str = "") -> str:
    """Fence ``body`` with more backticks than any run inside it."""
    longest = 0
    run = 0
    for ch in body:
        run = run + 1 if ch == "`" else 0
        longest = max(longest, run)
    ticks = "`" * max(3, longest + 1)
    end = "" if body.endswith("\n") or not body else "\n"
    return f"{ticks}{info}\n{body}{end}{ticks}"


def flatten(segments: list[Segment], attachments: dict[int, Attachment]) -> str:
    """One user message from typed segments.

    Text and pastes stay inline, in order. Referring segments read as their
    mention (``@path``, ``#slug``, ``/slug``) inline, and their resolved content
    follows the text as blocks, in the order they were mentioned.
    """
    inline: list[str] = []
    blocks: list[str] = []
    for index, segment in enumerate(segments):
        match segment:
            case TextSegment(text=text):
                inline.append(text)
            case PasteSegment(text=text, label=label):
                head = f"[Pasted: {label}]\n" if label else ""
                inline.append(f"\n{head}{fence(text)}\n")
            case ImageSegment():  # the image itself goes as a content part
                inline.append(mention(segment))
            case _:
                inline.append(mention(segment))
                att = attachments.get(index)
                if att is None:
                    att = Attachment(title=mention(segment), body="[not resolved]", ok=False)
                blocks.append(f"[{att.title}]\n{att.body}".rstrip())
    text = "".join(inline).strip()
    if blocks:
        text = (text + "\n\n" if text else "") + "\n\n".join(blocks)
    return text


def title_of(segments: list[Segment], limit: int = 80) -> str:
    """A short title for a session: the first user text, on one line."""
    parts: list[str] = []
    for s in segments:
        if isinstance(s, TextSegment | PasteSegment):
            parts.append(s.text)
        else:
            parts.append(mention(s))
    title = " ".join(" ".join(parts).split())
    return title if len(title) <= limit else title[: limit - 1].rstrip() + "…"
