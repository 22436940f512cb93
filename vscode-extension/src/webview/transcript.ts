/**
 * Draws a ChatState's entries. Entries are immutable, so only entries whose
 * object changed are redrawn; expanded rows stay expanded.
 */

import type { Entry, PendingApproval } from '../logic/chatState';
import type { AgentEntry } from '../logic/subAgents';
import { AgentRow } from './agentRow';
import { formatCost, formatTokens } from '../logic/display';
import { thumbnail } from '../logic/images';
import { segmentLabel } from '../logic/mentions';
import type { Segment } from '../protocol';
import { h, icon } from './dom';
import { renderMarkdown } from './markdown';
import { toolRow, updateLive, type RowUi } from './toolRow';

const NOTICE_ICON = { info: 'info', warn: 'warning', error: 'error' } as const;

function userEntry(segments: Segment[]): HTMLElement {
  const body = h('div', { class: 'user-text' });
  for (const segment of segments) {
    if (segment.kind === 'text') {
      body.append(segment.text);
    } else if (segment.kind === 'paste') {
      body.append(h('span', { class: 'chip', title: segment.text.slice(0, 400) }, icon('clippy'), segment.label ?? 'pasted text'));
    } else if (segment.kind === 'image') {
      const thumb = thumbnail(segment);
      const label = segmentLabel(segment).slice(8, -1); // [image: name]
      body.append(h('span', { class: 'chip chip-image', title: label }, thumb === undefined ? icon('file-media') : h('img', { class: 'chip-thumb', src: thumb, alt: '' }), label));
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
  return h('div', { class: 'entry user', 'aria-label': 'You' }, h('div', { class: 'who' }, icon('account'), 'You', userActions()), body);
}

/** A user message's checkpoint buttons (main.ts answers their clicks). */
function userActions(): HTMLElement {
  const button = (attr: string, value: string, glyph: string, label: string): HTMLElement =>
    h('button', { type: 'button', class: 'icon-button', [attr]: value, title: label, 'aria-label': label }, icon(glyph));
  return h(
    'span',
    { class: 'user-actions' },
    button('data-checkpoint', 'restore', 'discard', 'Restore checkpoint'),
    button('data-edit-resend', '', 'edit', 'Edit and resend'),
    button('data-checkpoint', 'diff', 'diff', 'Show changes since here'),
  );
}

function markdownBlock(text: string, streaming: boolean): HTMLElement {
  const el = h('div', { class: streaming ? 'markdown streaming' : 'markdown' });
  el.innerHTML = renderMarkdown(text); // markdown-it with html:false escapes raw HTML
  return el;
}

function assistantEntry(entry: Extract<Entry, { kind: 'assistant' }>, speaker: string): HTMLElement {
  return h('div', { class: 'entry assistant' }, h('div', { class: 'who' }, icon('sparkle'), speaker), markdownBlock(entry.text, entry.streaming));
}

function reasoningEntry(entry: Extract<Entry, { kind: 'reasoning' }>, open: boolean): HTMLElement {
  return h(
    'details',
    { class: 'entry reasoning', open },
    h('summary', {}, icon('lightbulb'), entry.streaming ? 'Thinking…' : 'Thought'),
    markdownBlock(entry.text, false),
  );
}

function noticeEntry(entry: Extract<Entry, { kind: 'notice' }>): HTMLElement {
  return h(
    'div',
    { class: `entry notice notice-${entry.level}`, role: entry.level === 'error' ? 'alert' : undefined },
    icon(NOTICE_ICON[entry.level]),
    h('span', {}, entry.text),
    entry.raise === undefined
      ? ''
      : h(
          'button',
          { type: 'button', class: 'notice-action', 'data-raise-budget': true, title: "Raise this session's budget, then send again" },
          'Raise Session Budget…',
        ),
  );
}

function usageEntry(entry: Extract<Entry, { kind: 'usage' }>): HTMLElement {
  const parts = [`${formatTokens(entry.inputTokens)} in`, `${formatTokens(entry.outputTokens)} out`];
  if (entry.costUsd !== undefined) {
    parts.push(formatCost(entry.costUsd));
  }
  const cached = entry.cacheReadTokens > 0 ? ` (${entry.cacheReadTokens} from cache)` : '';
  return h(
    'div',
    { class: 'entry usage', title: `This turn: ${entry.inputTokens} input tokens${cached}, ${entry.outputTokens} output tokens` },
    icon('pulse'),
    h('span', {}, `Turn: ${parts.join(' · ')}`),
  );
}

function draw(entry: Exclude<Entry, AgentEntry>, ui: RowUi, approvals: readonly PendingApproval[], speaker: string): HTMLElement {
  let el: HTMLElement;
  switch (entry.kind) {
    case 'user':
      el = userEntry(entry.segments);
      break;
    case 'assistant':
      el = assistantEntry(entry, speaker);
      break;
    case 'reasoning':
      el = reasoningEntry(entry, ui.open);
      break;
    case 'tool':
      el = toolRow(entry, ui, { all: approvals });
      break;
    case 'notice':
      el = noticeEntry(entry);
      break;
    case 'usage':
      el = usageEntry(entry);
      break;
  }
  el.dataset['key'] = String(entry.key);
  return el;
}

/** What else a row's look depends on besides its entry (the approvals waiting in it). */
function signature(entry: Entry, approvals: readonly PendingApproval[]): string {
  if (entry.kind !== 'tool' || approvals.length === 0) {
    return '';
  }
  const mine = approvals.filter((a) => a.toolCallId === entry.callId).map((a) => a.requestId);
  return mine.length === 0 ? '' : `${mine.join(',')}/${approvals.length}`;
}

function olderRow(loading: boolean): HTMLElement {
  return h(
    'div',
    { class: 'older', 'data-loading': loading ? 'true' : 'false' },
    loading
      ? h('span', { class: 'older-loading', role: 'status' }, icon('loading', 'codicon-modifier-spin'), 'Loading earlier messages…')
      : h('button', { type: 'button', class: 'link', 'data-load-older': true }, icon('fold-up'), 'Show earlier messages'),
  );
}

export class Transcript {
  private readonly drawn = new Map<number, { entry: Entry; el: HTMLElement; signature: string }>();
  /** call ids whose whole output is shown */
  private readonly fullOutput = new Set<string>();
  /** the rows of sub-agents (updated in place), by entry key */
  private readonly agents = new Map<number, AgentRow>();
  /** the row above the entries that loads earlier messages (while there are any) */
  private older: HTMLElement | undefined;

  /** who the assistant's messages are from */
  private speaker = 'yoi';

  constructor(private readonly root: HTMLElement) {}

  /** Name who the assistant is (a sub-agent's transcript); its messages are drawn again on the next render. */
  setSpeaker(name: string): void {
    if (name === this.speaker) {
      return;
    }
    this.speaker = name;
    for (const [key, drawn] of this.drawn) {
      if (drawn.entry.kind === 'assistant') {
        this.drawn.set(key, { ...drawn, signature: '!' });
      }
    }
  }

  /** Show a tool's whole output, or only its last lines again. */
  toggleOutput(callId: string): void {
    if (!this.fullOutput.delete(callId)) {
      this.fullOutput.add(callId);
    }
    for (const row of this.agents.values()) {
      row.toggleOutput(callId);
    }
    for (const [key, drawn] of this.drawn) {
      if (drawn.entry.kind === 'tool' && drawn.entry.callId === callId) {
        this.drawn.set(key, { ...drawn, signature: '!' }); // redraw on the next render
      }
    }
  }

  /** Show (or drop) the row that loads earlier messages; `loading` once they were asked for. */
  private setOlder(older: { loading: boolean } | undefined): void {
    if (older === undefined) {
      this.older?.remove();
      this.older = undefined;
      return;
    }
    const row = olderRow(older.loading);
    if (this.older === undefined) {
      this.root.prepend(row);
    } else if (this.older.dataset['loading'] !== row.dataset['loading']) {
      this.older.replaceWith(row);
    } else {
      return;
    }
    this.older = row;
  }

  /** Draw the entries, below a row that loads earlier messages while `older` says there are some. */
  render(entries: readonly Entry[], approvals: readonly PendingApproval[] = [], older?: { loading: boolean }): void {
    const atBottom = this.root.scrollHeight - this.root.scrollTop - this.root.clientHeight < 40;
    // Entries put above the shown ones (an older page) must not move what the user looks at.
    const firstDrawn = this.older?.nextElementSibling ?? this.root.firstElementChild;
    const prepending = !atBottom && entries.length > 0 && firstDrawn instanceof HTMLElement && firstDrawn.dataset['key'] !== String(entries[0]?.key);
    const anchor = prepending ? this.firstEntryInView() : undefined;
    const anchorTop = anchor?.getBoundingClientRect().top ?? 0;
    this.setOlder(older);
    const keep = new Set(entries.map((e) => e.key));
    for (const [key, { el }] of this.drawn) {
      if (!keep.has(key)) {
        el.remove();
        this.drawn.delete(key);
        this.agents.delete(key);
      }
    }
    let previous: HTMLElement | undefined;
    for (const entry of entries) {
      const old = this.drawn.get(entry.key);
      const sig = signature(entry, approvals);
      let el = old?.el;
      if (entry.kind === 'agent') {
        el = this.agentRow(entry, approvals);
        if (old !== undefined && old.el !== el) {
          old.el.replaceWith(el); // the key was another entry's (a redrawn history)
        }
        this.drawn.set(entry.key, { entry, el, signature: sig });
      } else if (old !== undefined && old.entry !== entry && old.signature === sig && updateLive(old.el, old.entry, entry)) {
        this.drawn.set(entry.key, { entry, el: old.el, signature: sig }); // the Stop button stays put
      } else if (old === undefined || old.entry !== entry || old.signature !== sig) {
        const details = old?.el instanceof HTMLDetailsElement ? old.el : old?.el.querySelector(':scope > details');
        const ui: RowUi = {
          open: details instanceof HTMLDetailsElement ? details.open : false,
          fullOutput: entry.kind === 'tool' && this.fullOutput.has(entry.callId),
        };
        el = draw(entry, ui, approvals, this.speaker);
        this.agents.delete(entry.key);
        if (old !== undefined) {
          old.el.replaceWith(el);
        }
        this.drawn.set(entry.key, { entry, el, signature: sig });
      }
      if (el !== undefined && (el.parentElement !== this.root || el.previousElementSibling !== (previous ?? this.older ?? null))) {
        if (previous === undefined) {
          if (this.older === undefined) {
            this.root.prepend(el);
          } else {
            this.older.after(el);
          }
        } else {
          previous.after(el);
        }
      }
      previous = el;
    }
    if (atBottom) {
      this.root.scrollTop = this.root.scrollHeight;
    } else if (anchor?.isConnected === true) {
      this.root.scrollTop += anchor.getBoundingClientRect().top - anchorTop;
    }
  }

  /** A sub-agent's row, updated in place. */
  private agentRow(entry: AgentEntry, approvals: readonly PendingApproval[]): HTMLElement {
    let row = this.agents.get(entry.key);
    if (row === undefined) {
      row = new AgentRow((root) => new Transcript(root));
      row.el.dataset['key'] = String(entry.key);
      this.agents.set(entry.key, row);
    }
    row.update(entry, approvals);
    return row.el;
  }

  /** The first entry at least partly in view. */
  private firstEntryInView(): HTMLElement | undefined {
    const top = this.root.getBoundingClientRect().top;
    for (const child of Array.from(this.root.children)) {
      if (child instanceof HTMLElement && child !== this.older && child.getBoundingClientRect().bottom > top) {
        return child;
      }
    }
    return undefined;
  }
}
