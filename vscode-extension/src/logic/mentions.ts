/**
 * The chat input's text ⇄ typed segments. References are written inline:
 * `@path`, `@path:12-20` (1-based, inclusive), `@"a path with spaces"`,
 * `#knowledge-slug` and `/workflow-slug` (only slugs the user picked).
 */

import type { Position, Range, ReferenceKind, Segment } from '../protocol';

export type Sigil = '@' | '#' | '/';

export const SIGIL_KIND: Record<Sigil, ReferenceKind> = { '@': 'file', '#': 'knowledge', '/': 'workflow' };

export interface ActiveMention {
  sigil: Sigil;
  /** what was typed after the sigil */
  query: string;
  /** offset of the sigil */
  start: number;
  /** offset of the caret */
  end: number;
}

function isBoundary(text: string, index: number): boolean {
  return index === 0 || /\s/.test(text.charAt(index - 1));
}

/**
 * The reference being typed at the caret, if any: a sigil at a word boundary
 * followed by non-space characters up to the caret. `/` only counts at the
 * very start of the input (like a slash command).
 */
export function activeMention(text: string, caret: number): ActiveMention | undefined {
  let i = caret - 1;
  while (i >= 0 && !/\s/.test(text.charAt(i))) {
    const ch = text.charAt(i);
    if ((ch === '@' || ch === '#' || ch === '/') && isBoundary(text, i)) {
      if (ch === '/' && i !== 0) {
        return undefined;
      }
      const query = text.slice(i + 1, caret);
      if (ch !== '@' && /[^a-z0-9-]/i.test(query)) {
        return undefined;
      }
      return { sigil: ch, query, start: i, end: caret };
    }
    i -= 1;
  }
  return undefined;
}

/** `@path` or `@path:a-b` (1-based inclusive lines), quoted when needed. */
export function formatFileMention(path: string, lines?: { first: number; last: number }): string {
  const suffix = lines === undefined ? '' : lines.first === lines.last ? `:${lines.first}` : `:${lines.first}-${lines.last}`;
  const body = /[\s"]/.test(path) ? `"${path.replace(/"/g, '')}"` : path;
  return `@${body}${suffix}`;
}

/**
 * The lines a selection covers (1-based, inclusive): a selection ending at
 * column 0 of a later line does not include that line.
 */
export function selectionLines(start: Position, end: Position): { first: number; last: number } {
  const first = start.line + 1;
  let last = end.line + 1;
  if (end.character === 0 && end.line > start.line) {
    last -= 1;
  }
  return { first, last: Math.max(first, last) };
}

/** 1-based inclusive lines → an LSP range of whole lines (end exclusive). */
export function linesToRange(first: number, last: number): Range {
  return { start: { line: first - 1, character: 0 }, end: { line: last, character: 0 } };
}

export interface KnownReferences {
  /** knowledge slugs the user picked (a bare `#word` is just text) */
  knowledge?: ReadonlySet<string>;
  /** workflow slugs the user picked */
  workflows?: ReadonlySet<string>;
  /** file paths the user picked; `@x` with a `.` or `/` is a file too */
  files?: ReadonlySet<string>;
}

// groups: 1 lead, 2-4 a quoted path and its lines (`@"a b.py":3-5`), 5 an
// unquoted `@path[:lines]`, 6 `#knowledge`, 7 `/workflow`
const TOKEN = /(^|\s)(?:@"([^"]+)"(?::(\d+)(?:-(\d+))?)?|@([^\s"]*[^\s",;!?).:'])|#([a-z0-9][a-z0-9-]*)|\/([a-z0-9][a-z0-9-]*))(?=$|[\s,;!?).:'"])/gi;

/** An unquoted `path[:a[-b]]`. */
function unquotedFile(raw: string, known: KnownReferences): Segment | undefined {
  const match = /^(.*?)(?::(\d+)(?:-(\d+))?)?$/.exec(raw);
  const path = match?.[1] ?? raw;
  if (path === '') {
    return undefined;
  }
  const looksLikePath = /[./]/.test(path);
  if (!looksLikePath && !(known.files?.has(path) ?? false)) {
    return undefined;
  }
  return fileSegment(path, match?.[2], match?.[3]);
}

function fileSegment(path: string, first: string | undefined, last: string | undefined): Segment {
  if (first === undefined) {
    return { kind: 'file', path };
  }
  const a = Number(first);
  const b = last === undefined ? a : Number(last);
  if (a < 1 || b < a) {
    return { kind: 'file', path };
  }
  return { kind: 'file', path, range: linesToRange(a, b) };
}

/** Split the input into segments; adjacent text is merged, empty text dropped. */
export function parseInput(text: string, known: KnownReferences = {}): Segment[] {
  const segments: Segment[] = [];
  const pushText = (value: string): void => {
    if (value === '') {
      return;
    }
    const last = segments[segments.length - 1];
    if (last !== undefined && last.kind === 'text') {
      segments[segments.length - 1] = { kind: 'text', text: last.text + value };
    } else {
      segments.push({ kind: 'text', text: value });
    }
  };
  let cursor = 0;
  for (const m of text.matchAll(TOKEN)) {
    const lead = m[1] ?? '';
    const tokenStart = m.index + lead.length;
    const token = m[0].slice(lead.length);
    let segment: Segment | undefined;
    if (m[2] !== undefined) {
      segment = fileSegment(m[2], m[3], m[4]);
    } else if (m[5] !== undefined) {
      segment = unquotedFile(m[5], known);
    } else if (m[6] !== undefined && (known.knowledge?.has(m[6]) ?? false)) {
      segment = { kind: 'knowledge', slug: m[6] };
    } else if (m[7] !== undefined && tokenStart === 0 && (known.workflows?.has(m[7]) ?? false)) {
      segment = { kind: 'workflow', slug: m[7] };
    }
    if (segment === undefined) {
      continue;
    }
    pushText(text.slice(cursor, tokenStart));
    segments.push(segment);
    cursor = tokenStart + token.length;
  }
  pushText(text.slice(cursor));
  return segments;
}

/** How a segment reads in the transcript (the inverse of parseInput). */
export function segmentLabel(segment: Segment): string {
  switch (segment.kind) {
    case 'text':
    case 'paste':
      return segment.text;
    case 'file': {
      if (segment.range === undefined) {
        return formatFileMention(segment.path);
      }
      return formatFileMention(segment.path, selectionLines(segment.range.start, segment.range.end));
    }
    case 'knowledge':
      return `#${segment.slug}`;
    case 'workflow':
      return `/${segment.slug}`;
    case 'image':
      return `[image: ${segment.name ?? segment.path ?? 'pasted image'}]`;
  }
}
