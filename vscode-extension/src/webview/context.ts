/**
 * The Context view's page: draws the host's ContextView (src/logic/context.ts)
 * and asks for a refresh. No logic of its own beyond the DOM.
 */

import type { ContextGroup, ContextView } from '../logic/context';
import type { ContextHostMessage, ContextWebviewMessage } from '../messages';
import { byId, h } from './dom';

interface VsCodeApi {
  postMessage(message: ContextWebviewMessage): void;
}

declare function acquireVsCodeApi(): VsCodeApi;

const vscode = acquireVsCodeApi();
const root = byId('context');
const headline = byId('context-headline');
const model = byId('context-model');
const meter = byId('context-meter');
const estimate = byId('context-estimate');
const groups = byId('context-groups');
const pruned = byId('context-pruned');

function group(g: ContextGroup): HTMLElement {
  return h(
    'section',
    { class: 'context-group', 'data-group': g.group, 'aria-label': g.title },
    h('h2', {}, h('span', { class: 'context-group-title' }, g.title), h('span', { class: 'context-group-size' }, g.text)),
    h(
      'ul',
      {},
      ...g.bars.map((bar) => {
        const fill = h('div', { class: 'context-bar-fill' });
        fill.style.width = `${Math.max(bar.share, bar.tokens > 0 ? 0.5 : 0)}%`;
        return h(
          'li',
          { class: 'context-part', title: `${bar.label}: ${bar.text}` },
          h('div', { class: 'context-part-line' }, h('span', { class: 'context-part-label' }, bar.label, bar.count === undefined ? '' : h('span', { class: 'context-part-count' }, ` ${bar.count}`)), h('span', { class: 'context-part-size' }, bar.text)),
          h('div', { class: 'context-bar' }, fill),
        );
      }),
    ),
  );
}

function show(view: ContextView): void {
  headline.textContent = view.headline;
  model.textContent = view.model;
  meter.hidden = view.windowShare === undefined;
  const fill = meter.firstElementChild as HTMLElement | null;
  if (fill !== null) {
    fill.style.width = `${view.windowShare ?? 0}%`;
  }
  estimate.textContent = view.estimate;
  groups.replaceChildren(...view.groups.map(group));
  pruned.textContent = view.pruned;
  pruned.hidden = false;
}

function say(text: string): void {
  headline.textContent = text;
  model.textContent = '';
  meter.hidden = true;
  estimate.textContent = '';
  groups.replaceChildren();
  pruned.hidden = true;
}

window.addEventListener('message', (e: MessageEvent<ContextHostMessage>) => {
  const message = e.data;
  switch (message.type) {
    case 'context':
      root.setAttribute('aria-busy', 'false');
      show(message.view);
      break;
    case 'message':
      root.setAttribute('aria-busy', 'false');
      say(message.text);
      break;
    case 'loading':
      root.setAttribute('aria-busy', 'true');
      break;
  }
});

byId('context-refresh').addEventListener('click', () => vscode.postMessage({ type: 'refresh' }));
vscode.postMessage({ type: 'ready' });
