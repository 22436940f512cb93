/**
 * Plays the extension host for the chat page in a plain browser: provides
 * `acquireVsCodeApi`, records what the page posts, answers reference look-ups
 * from a fixed file list, and lets the test deliver host messages.
 */

import type { HostMessage, WebviewMessage } from '../../src/messages';
import type { ReferenceItem } from '../../src/protocol';

interface Harness {
  posted: WebviewMessage[];
  deliver(message: HostMessage): void;
}

declare global {
  interface Window {
    harness: Harness;
    acquireVsCodeApi: () => unknown;
  }
}

const OPEN = ['app.py'];
const FILES = ['app.py', 'src/api.py', 'src/server/pods.py', 'README.md', 'tests/test_app.py', 'docs/protocol.md'];

function fuzzy(query: string, path: string): boolean {
  let i = 0;
  for (const ch of path.toLowerCase()) {
    if (ch === query.charAt(i).toLowerCase()) {
      i += 1;
    }
  }
  return i === query.length;
}

function complete(prefix: string): ReferenceItem[] {
  return FILES.filter((f) => fuzzy(prefix, f))
    .sort((a, b) => Number(OPEN.includes(b)) - Number(OPEN.includes(a)))
    .map((path) => {
      const open = OPEN.includes(path);
      const folder = path.includes('/') ? path.slice(0, path.lastIndexOf('/')) : '.';
      return { kind: 'file', label: path, path, detail: open ? 'open' : folder, open };
    });
}

const posted: WebviewMessage[] = [];
const deliver = (message: HostMessage): void => {
  window.postMessage(message, '*');
};
let saved: unknown;

window.harness = { posted, deliver };
window.acquireVsCodeApi = () => ({
  postMessage(message: WebviewMessage): void {
    posted.push(message);
    if (message.type === 'complete') {
      setTimeout(() => {
        deliver({ type: 'completions', requestId: message.requestId, items: complete(message.prefix) });
      }, 5);
    }
  },
  getState: () => saved,
  setState: (state: unknown) => {
    saved = state;
  },
});
