"""Segments: flattening to the user message, and @mention parsing."""

from __future__ import annotations

from agent.mentions import line_range, parse_mentions
from agent.segments import (
    Attachment,
    FileSegment,
    KnowledgeSegment,
    PasteSegment,
    TextSegment,
    WorkflowSegment,
    fence,
    flatten,
    load_segments,
    title_of,
)


def test_flatten_keeps_text_inline_and_attachments_after() -> None:
    segments = [
        TextSegment(kind="text", text="compare "),
        FileSegment(kind="file", path="a.py"),
        TextSegment(kind="text", text=" with "),
        FileSegment(kind="file", path="b.py", range=line_range(3, 4)),
    ]
    attachments = {
        1: Attachment(title="File: a.py", body="```\nA\n```"),
        3: Attachment(title="File: b.py, lines 3-4 of 9", body="```\n     3\tB\n```"),
    }
    text = flatten(segments, attachments)
    assert text.startswith("compare @a.py with @b.py:3-4\n\n[File: a.py]\n```\nA\n```")
    assert text.endswith("[File: b.py, lines 3-4 of 9]\n```\n     3\tB\n```")


def test_unresolved_reference_is_a_visible_placeholder() -> None:
    text = flatten([KnowledgeSegment(kind="knowledge", slug="style")], {})
    assert "#style" in text and "[not resolved]" in text


def test_paste_is_fenced_with_its_label() -> None:
    text = flatten([PasteSegment(kind="paste", text="x = 1\n", label="snippet")], {})
    assert "[Pasted: snippet]" in text and "```\nx = 1\n```" in text


def test_fence_outgrows_backticks_in_the_body() -> None:
    assert fence("a ```` b").startswith("`````\n")


def test_wire_shape_round_trips() -> None:
    raw = [
        {"kind": "text", "text": "hi"},
        {
            "kind": "file",
            "path": "x",
            "range": {"start": {"line": 0, "character": 0}, "end": {"line": 2, "character": 0}},
        },
        {"kind": "workflow", "slug": "review"},
    ]
    segments = load_segments(raw)
    assert isinstance(segments[1], FileSegment) and segments[1].range is not None
    assert segments[1].range.line_span() == (1, 2)
    assert title_of(segments) == "hi @x:1-2 /review"


def test_parse_mentions() -> None:
    segments = parse_mentions(
        "/review look at @src/app.py:10-20 and @README.md, ask #style. mail a@b.c"
    )
    assert segments[0] == WorkflowSegment(kind="workflow", slug="review")
    files = [s for s in segments if isinstance(s, FileSegment)]
    assert [f.path for f in files] == ["src/app.py", "README.md"]
    assert files[0].range is not None and files[0].range.line_span() == (10, 20)
    assert KnowledgeSegment(kind="knowledge", slug="style") in segments
    text = "".join(s.text for s in segments if isinstance(s, TextSegment))
    assert "mail a@b.c" in text  # not a mention: no space before @


def test_single_line_mention() -> None:
    (seg,) = [s for s in parse_mentions("@a.py:7") if isinstance(s, FileSegment)]
    assert seg.range is not None and seg.range.line_span() == (7, 7)


def test_quoted_mentions_may_contain_spaces_and_keep_their_lines() -> None:
    """The editors' spelling of a path with spaces, typed in ``yoi chat``."""
    segments = parse_mentions('see @"my notes/a b.md":3-5 and @"c d.py", then @e.py')
    files = [s for s in segments if isinstance(s, FileSegment)]
    assert [f.path for f in files] == ["my notes/a b.md", "c d.py", "e.py"]
    assert files[0].range is not None and files[0].range.line_span() == (3, 5)
    assert files[1].range is None
    text = "".join(s.text for s in segments if isinstance(s, TextSegment))
    assert text == "see  and , then "
    assert parse_mentions('an unclosed @"quote') == [
        TextSegment(kind="text", text='an unclosed @"quote')
    ]
