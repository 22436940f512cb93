/** A few DOM helpers for the webview (no framework). */

type Attrs = Record<string, string | number | boolean | undefined>;

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Attrs = {},
  ...children: (Node | string | undefined)[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === false) {
      continue;
    }
    if (name === 'class') {
      el.className = String(value);
    } else {
      el.setAttribute(name, value === true ? '' : String(value));
    }
  }
  for (const child of children) {
    if (child !== undefined) {
      el.append(child);
    }
  }
  return el;
}

/** A codicon, hidden from screen readers (the control around it carries the label). */
export function icon(name: string, extra = ''): HTMLElement {
  return h('i', { class: `codicon codicon-${name}${extra === '' ? '' : ` ${extra}`}`, 'aria-hidden': 'true' });
}

export function byId(id: string): HTMLElement {
  const el = document.getElementById(id);
  if (el === null) {
    throw new Error(`The chat page has no #${id}.`);
  }
  return el;
}

export function textareaById(id: string): HTMLTextAreaElement {
  const el = byId(id);
  if (!(el instanceof HTMLTextAreaElement)) {
    throw new Error(`#${id} is not a textarea.`);
  }
  return el;
}
