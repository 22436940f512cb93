/**
 * Draws a ChatState's entries. Entries are immutable, so only entries whose
 * object changed are redrawn; expanded rows stay expanded.
 */

import type { EditState, Entry } from '../logic/chatState';
import { segmentLabel } from '../logic/mentions';
import type { Segment } from '../protocol';
import { h, icon } from './dom';
import { renderMarkdown } from './markdown';

type ToolEntry = Extract<Entry, { kind: 'tool' }>;

const TOOL_ICON: Record<ToolEntry['status'], [string, string]> = {
  running: ['loading', 'codicon-modifier-spin'],
  ok: ['check', ''],
  failed: ['error', ''],
};

const EDIT_TEXT: Record<EditState['status'], [string, string]> = {
  proposed: ['diff', 'waiting for your review in the Refactor Preview'],
  applied: ['check', 'applied'],
  rejected: ['circle-slash', 'rejected'],
  stale: ['warning', 'not sent: the file changed since the agent read it'],
  failed: ['error', 'failed'],
};

const NOTICE_ICON = { info: 'info', warn: 'warning', error: 'error' } as const;

function fileName(uri: string): string {
  const path = decodeURIComponent(uri.replace(/^file:\/\//, ''));
  return path.split('/').pop() ?? path;
}

function toolTarget(entry: ToolEntry): string {
  const args = entry.arguments;
  for (const key of ['path', 'command', 'pattern', 'query', 'url']) {
    const value = args[key];
    if (typeof value === 'string' && value !== '') {
      return value.length > 60 ? `${value.slice(0, 59)}…` : value;
    }
  }
  return '';
}

function userEntry(segments: Segment[]): HTMLElement {
  const body = h('div', { class: 'user-text' });
  for (const segment of segments) {
    if (segment.kind === 'text') {
      body.append(segment.text);
    } else if (segment.kind === 'paste') {
      body.append(h('span', { class: 'chip', title: segment.text.slice(0, 400) }, icon('clippy'), segment.label ?? 'pasted text'));
    } else {
      const glyph = segment.kind === 'file' ? 'file' : segment.kind === 'knowledge' ? 'book' : 'symbol-event';
      const attrs: Record<string, string> = { class: 'chip', type: 'button', title: segmentLabel(segment) };
      if (segment.kind === 'file') {
        attrs['data-open-path'] = segment.path;
        if (segment.range !== undefined) {
          attrs['data-open-line'] = String(segment.range.start.line);
        }
        attrs['aria-label'] = `Open ${segmentLabel(segment).slice(1)}`;
      }
      const chip = segment.kind === 'file' ? h('button', attrs) : h('span', attrs);
      chip.append(icon(glyph), segmentLabel(segment).slice(1));
      body.append(chip);
    }
  }
  return h('div', { class: 'entry user', 'aria-label': 'You' }, h('div', { class: 'who' }, icon('account'), 'You'), body);
}

function markdownBlock(text: string, streaming: boolean): HTMLElement {
  const el = h('div', { class: streaming ? 'markdown streaming' : 'markdown' });
  el.innerHTML = renderMarkdown(text); // markdown-it with html:false escapes raw HTML
  return el;
}

function assistantEntry(entry: Extract<Entry, { kind: 'assistant' }>): HTMLElement {
  return h('div', { class: 'entry assistant' }, h('div', { class: 'who' }, icon('sparkle'), 'yoi'), markdownBlock(entry.text, entry.streaming));
}

function reasoningEntry(entry: Extract<Entry, { kind: 'reasoning' }>, open: boolean): HTMLElement {
  return h(
    'details',
    { class: 'entry reasoning', open },
    h('summary', {}, icon('lightbulb'), entry.streaming ? 'Thinking…' : 'Thought'),
    markdownBlock(entry.text, false),
  );
}

function editRow(edit: EditState): HTMLElement {
  const [glyph, text] = EDIT_TEXT[edit.status];
  return h(
    'li',
    { class: `edit edit-${edit.status}` },
    icon(glyph),
    h('span', { class: 'edit-file' }, fileName(edit.uri)),
    h('span', { class: 'edit-status' }, edit.message === undefined ? text : `${text}: ${edit.message}`),
  );
}

function toolEntry(entry: ToolEntry, open: boolean): HTMLElement {
  const [glyph, modifier] = TOOL_ICON[entry.status];
  const latestEdit = entry.edits[entry.edits.length - 1];
  const summary = latestEdit !== undefined && entry.status === 'running' ? EDIT_TEXT[latestEdit.status][1] : entry.summary ?? 'running…';
  const body = h('div', { class: 'tool-body' });
  if (entry.edits.length > 0) {
    body.append(h('ul', { class: 'edits' }, ...entry.edits.map(editRow)));
  }
  body.append(h('pre', { class: 'tool-args' }, JSON.stringify(entry.arguments, null, 2)));
  if (entry.content !== undefined && entry.content !== '') {
    body.append(h('pre', { class: 'tool-content' }, entry.content.length > 4000 ? `${entry.content.slice(0, 4000)}\n…` : entry.content));
  }
  return h(
    'details',
    { class: `entry tool tool-${entry.status}`, open, 'data-call-id': entry.callId },
    h(
      'summary',
      { 'aria-label': `${entry.name} ${toolTarget(entry)}: ${entry.status === 'running' ? 'running' : entry.status === 'ok' ? 'done' : 'failed'}. ${summary}` },
      h('span', { class: 'tool-status' }, icon(glyph, modifier)),
      h('span', { class: 'tool-name' }, entry.name),
      h('span', { class: 'tool-target' }, toolTarget(entry)),
      h('span', { class: 'tool-summary' }, summary),
    ),
    body,
  );
}

function noticeEntry(entry: Extract<Entry, { kind: 'notice' }>): HTMLElement {
  return h(
    'div',
    { class: `entry notice notice-${entry.level}`, role: entry.level === 'error' ? 'alert' : undefined },
    icon(NOTICE_ICON[entry.level]),
    h('span', {}, entry.text),
  );
}

function draw(entry: Entry, open: boolean): HTMLElement {
  let el: HTMLElement;
  switch (entry.kind) {
    case 'user':
      el = userEntry(entry.segments);
      break;
    case 'assistant':
      el = assistantEntry(entry);
      break;
    case 'reasoning':
      el = reasoningEntry(entry, open);
      break;
    case 'tool':
      el = toolEntry(entry, open);
      break;
    case 'notice':
      el = noticeEntry(entry);
      break;
  }
  el.dataset['key'] = String(entry.key);
  return el;
}

export class Transcript {
  private readonly drawn = new Map<number, { entry: Entry; el: HTMLElement }>();

  constructor(private readonly root: HTMLElement) {}

  render(entries: readonly Entry[]): void {
    const atBottom = this.root.scrollHeight - this.root.scrollTop - this.root.clientHeight < 40;
    const keep = new Set(entries.map((e) => e.key));
    for (const [key, { el }] of this.drawn) {
      if (!keep.has(key)) {
        el.remove();
        this.drawn.delete(key);
      }
    }
    let previous: HTMLElement | undefined;
    for (const entry of entries) {
      const old = this.drawn.get(entry.key);
      let el = old?.el;
      if (old === undefined || old.entry !== entry) {
        const open = old?.el instanceof HTMLDetailsElement ? old.el.open : false;
        el = draw(entry, open);
        if (old !== undefined) {
          old.el.replaceWith(el);
        }
        this.drawn.set(entry.key, { entry, el });
      }
      if (el !== undefined && (el.parentElement !== this.root || el.previousElementSibling !== (previous ?? null))) {
        if (previous === undefined) {
          this.root.prepend(el);
        } else {
          previous.after(el);
        }
      }
      previous = el;
    }
    if (atBottom) {
      this.root.scrollTop = this.root.scrollHeight;
    }
  }
}
