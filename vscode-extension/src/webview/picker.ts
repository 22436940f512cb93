/**
 * The reference picker under the input: opens on `@` (files), `#` (knowledge)
 * and `/` (workflows), fed by the host's `yoi/references/complete` answers.
 */

import { activeMention, formatFileMention, SIGIL_KIND, type ActiveMention } from '../logic/mentions';
import type { ReferenceItem, ReferenceKind } from '../protocol';
import { h, icon } from './dom';

export interface PickerHost {
  complete(requestId: number, kind: ReferenceKind, prefix: string): void;
  accepted(kind: ReferenceKind, value: string): void;
}

const KIND_ICON: Record<ReferenceKind, string> = { file: 'file', knowledge: 'book', workflow: 'symbol-event' };

export class Picker {
  private items: ReferenceItem[] = [];
  private selected = 0;
  private mention: ActiveMention | undefined;
  private requestId = 0;
  /** where accept() put a space after the reference (dropped if punctuation follows it) */
  private autoSpace: number | undefined;

  constructor(
    private readonly list: HTMLElement,
    private readonly input: HTMLTextAreaElement,
    private readonly host: PickerHost,
  ) {
    list.addEventListener('mousedown', (e) => {
      e.preventDefault(); // keep the focus in the input
      const option = (e.target as HTMLElement).closest<HTMLElement>('[role="option"]');
      if (option?.dataset['index'] !== undefined) {
        this.accept(Number(option.dataset['index']));
      }
    });
  }

  get isOpen(): boolean {
    return !this.list.hidden;
  }

  /** After every edit or caret move in the input. */
  update(): void {
    this.tidySpace();
    const mention = activeMention(this.input.value, this.input.selectionStart);
    if (mention === undefined) {
      this.close();
      return;
    }
    const same = this.mention?.start === mention.start && this.mention.query === mention.query;
    this.mention = mention;
    if (!same) {
      this.requestId += 1;
      this.host.complete(this.requestId, SIGIL_KIND[mention.sigil], mention.query);
    }
  }

  /** The host's answer; stale answers are dropped. */
  show(requestId: number, items: ReferenceItem[]): void {
    if (requestId !== this.requestId || this.mention === undefined) {
      return;
    }
    this.items = items;
    this.selected = 0;
    this.draw();
  }

  /** Keys the picker handles while open; true when it used the key. */
  key(event: KeyboardEvent): boolean {
    if (!this.isOpen) {
      return false;
    }
    switch (event.key) {
      case 'ArrowDown':
        this.move(1);
        return true;
      case 'ArrowUp':
        this.move(-1);
        return true;
      case 'Enter':
      case 'Tab':
        if (this.items.length === 0) {
          return false;
        }
        this.accept(this.selected);
        return true;
      case 'Escape':
        this.close();
        return true;
      default:
        return false;
    }
  }

  /**
   * The space put after a picked reference is there to type on; punctuation
   * typed right after it goes against the reference instead (`@app.py, and`).
   */
  private tidySpace(): void {
    const at = this.autoSpace;
    this.autoSpace = undefined;
    if (at === undefined) {
      return;
    }
    const value = this.input.value;
    const caret = this.input.selectionStart;
    if (caret === at + 2 && value.charAt(at) === ' ' && /[,.;:!?)]/.test(value.charAt(at + 1))) {
      this.input.value = value.slice(0, at) + value.slice(at + 1);
      this.input.setSelectionRange(caret - 1, caret - 1);
    }
  }

  close(): void {
    this.mention = undefined;
    this.items = [];
    this.list.hidden = true;
    this.list.replaceChildren();
    this.input.setAttribute('aria-expanded', 'false');
    this.input.removeAttribute('aria-activedescendant');
  }

  private move(delta: number): void {
    if (this.items.length === 0) {
      return;
    }
    this.selected = (this.selected + delta + this.items.length) % this.items.length;
    this.draw();
  }

  private accept(index: number): void {
    const item = this.items[index];
    const mention = this.mention;
    if (item === undefined || mention === undefined) {
      return;
    }
    const value = item.kind === 'file' ? item.path ?? item.label : item.label;
    const token = item.kind === 'file' ? formatFileMention(value) : `${mention.sigil}${value}`;
    const text = this.input.value;
    const after = text.slice(mention.end);
    const spacer = /^\s/.test(after) ? '' : ' ';
    this.input.value = text.slice(0, mention.start) + token + spacer + after;
    const caret = mention.start + token.length + 1;
    this.input.setSelectionRange(caret, caret);
    this.host.accepted(item.kind, value);
    this.close();
    this.input.dispatchEvent(new Event('input'));
    this.autoSpace = spacer === '' ? undefined : mention.start + token.length;
  }

  private draw(): void {
    if (this.items.length === 0) {
      this.list.replaceChildren(h('div', { class: 'picker-empty' }, 'No matches'));
    } else {
      this.list.replaceChildren(
        ...this.items.map((item, index) =>
          h(
            'div',
            {
              class: index === this.selected ? 'picker-item selected' : 'picker-item',
              role: 'option',
              id: `picker-${index}`,
              'aria-selected': index === this.selected ? 'true' : 'false',
              'data-index': index,
            },
            icon(KIND_ICON[item.kind]),
            h('span', { class: 'picker-label' }, item.label),
            item.open ? h('span', { class: 'picker-badge' }, 'open') : undefined,
            item.detail !== undefined && item.detail !== 'open' && item.detail !== '.' ? h('span', { class: 'picker-detail' }, item.detail) : undefined,
          ),
        ),
      );
    }
    this.list.hidden = false;
    this.input.setAttribute('aria-expanded', 'true');
    if (this.items.length > 0) {
      this.input.setAttribute('aria-activedescendant', `picker-${this.selected}`);
      this.list.querySelector('.selected')?.scrollIntoView({ block: 'nearest' });
    }
  }
}
