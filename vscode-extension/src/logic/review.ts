/**
 * An edit under review, as plain data: the proposed text edits of one file
 * grouped into changes (hunks of whole lines), each kept, undone or still
 * pending, and the review document that shows them in place — the old lines
 * and the new lines of every pending change, one under the other. Pure: the
 * host turns the lines into decorations and code lenses, and applies the kept
 * edits to the real buffer.
 */

import type { Range } from '../protocol';

export type ChangeState = 'pending' | 'kept' | 'undone';

export interface TextEditLike {
  range: Range;
  newText: string;
}

export interface Change {
  /** the server's edits this change is made of (one, unless two touched the same lines) */
  edits: TextEditLike[];
  /** whole base lines [first, end) the change replaces */
  first: number;
  end: number;
  oldLines: string[];
  newLines: string[];
  state: ChangeState;
}

/** A half-open range of lines in the review document. */
export interface LineSpan {
  start: number;
  end: number;
}

export interface ChangeView {
  index: number;
  state: ChangeState;
  /** the line the change's code lens sits on */
  line: number;
  removed: LineSpan;
  added: LineSpan;
}

export interface ReviewView {
  text: string;
  changes: ChangeView[];
}

function lineStarts(text: string): number[] {
  const starts = [0];
  for (let i = 0; i < text.length; i += 1) {
    if (text.charCodeAt(i) === 10) {
      starts.push(i + 1);
    }
  }
  return starts;
}

function offsetAt(starts: number[], text: string, line: number, character: number): number {
  if (line >= starts.length) {
    return text.length;
  }
  const start = starts[line] ?? text.length;
  const next = starts[line + 1] ?? text.length + 1;
  return Math.min(start + character, next - 1, text.length);
}

/** Lines of a block that ends with a newline (or is the file's unterminated end). */
export function splitLines(block: string): string[] {
  if (block === '') {
    return [];
  }
  return (block.endsWith('\n') ? block.slice(0, -1) : block).split('\n').map((l) => l.replace(/\r$/, ''));
}

/**
 * Group a file's edits into changes of whole lines. Edits whose lines touch
 * are one change (the server sends one edit per hunk, so usually one each).
 */
export function buildChanges(base: string, edits: readonly TextEditLike[]): Change[] {
  const starts = lineStarts(base);
  const spans = edits
    .map((edit) => {
      const s = offsetAt(starts, base, edit.range.start.line, edit.range.start.character);
      const e = offsetAt(starts, base, edit.range.end.line, edit.range.end.character);
      const first = edit.range.start.line;
      const endsAtLineStart = edit.range.end.character === 0 && e > s;
      const end = s === e && edit.range.start.character === 0 ? first : endsAtLineStart ? edit.range.end.line : edit.range.end.line + 1;
      return { edit, s, e, first, end: Math.max(first, end) };
    })
    .sort((a, b) => a.s - b.s);
  const groups: (typeof spans)[] = [];
  for (const span of spans) {
    const last = groups[groups.length - 1];
    const previous = last?.[last.length - 1];
    if (last !== undefined && previous !== undefined && span.first < previous.end) {
      last.push(span);
    } else {
      groups.push([span]);
    }
  }
  return groups.map((group): Change => {
    const first = Math.min(...group.map((g) => g.first));
    const end = Math.max(...group.map((g) => g.end));
    const from = offsetAt(starts, base, first, 0);
    const to = end >= starts.length ? base.length : (starts[end] ?? base.length);
    let block = '';
    let cursor = from;
    for (const g of group) {
      block += base.slice(cursor, g.s) + g.edit.newText;
      cursor = g.e;
    }
    block += base.slice(cursor, to);
    return {
      edits: group.map((g) => g.edit),
      first,
      end,
      oldLines: splitLines(base.slice(from, to)),
      newLines: splitLines(block),
      state: 'pending',
    };
  });
}

/** The review document: the base text with every change shown by its state. */
export function reviewView(base: string, changes: readonly Change[]): ReviewView {
  const baseLines = splitLines(base);
  const out: string[] = [];
  const views: ChangeView[] = [];
  let cursor = 0;
  changes.forEach((change, index) => {
    out.push(...baseLines.slice(cursor, change.first));
    const line = out.length;
    const shownOld = change.state === 'kept' ? [] : change.oldLines;
    const shownNew = change.state === 'undone' ? [] : change.newLines;
    out.push(...shownOld);
    const mid = out.length;
    out.push(...shownNew);
    views.push({
      index,
      state: change.state,
      line,
      removed: change.state === 'pending' ? { start: line, end: mid } : { start: line, end: line },
      added: change.state === 'pending' ? { start: mid, end: out.length } : { start: mid, end: mid },
    });
    cursor = Math.max(cursor, change.end);
  });
  out.push(...baseLines.slice(cursor));
  return { text: out.join('\n') + (out.length > 0 ? '\n' : ''), changes: views };
}

/** The text the file will have with the kept changes applied (the others left out). */
export function applyKept(base: string, changes: readonly Change[]): string {
  const starts = lineStarts(base);
  const kept = changes
    .filter((c) => c.state === 'kept')
    .flatMap((c) => c.edits)
    .map((edit) => ({
      s: offsetAt(starts, base, edit.range.start.line, edit.range.start.character),
      e: offsetAt(starts, base, edit.range.end.line, edit.range.end.character),
      text: edit.newText,
    }))
    .sort((a, b) => b.s - a.s);
  let text = base;
  for (const k of kept) {
    text = text.slice(0, k.s) + k.text + text.slice(k.e);
  }
  return text;
}

/** The change a command acts on: the one at the line, else the next pending, else the first pending. */
export function changeAt(view: ReviewView, line: number): number | undefined {
  const pending = view.changes.filter((c) => c.state === 'pending');
  const at = pending.find((c) => line >= c.line && line < Math.max(c.added.end, c.line + 1));
  return (at ?? pending.find((c) => c.line >= line) ?? pending[0])?.index;
}

export interface Tally {
  total: number;
  kept: number;
  undone: number;
}

export function tally(changes: readonly Change[]): Tally {
  return {
    total: changes.length,
    kept: changes.filter((c) => c.state === 'kept').length,
    undone: changes.filter((c) => c.state === 'undone').length,
  };
}
