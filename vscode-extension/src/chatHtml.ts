/**
 * The chat webview's HTML: no remote assets, a strict Content-Security-Policy
 * and one nonce'd bundled script. Pure, so the browser tests load exactly the
 * page VS Code shows.
 */

import { MODES } from './logic/modes';

export interface ChatHtmlOptions {
  /** `webview.cspSource` (or the harness's origin) */
  cspSource: string;
  nonce: string;
  scriptUri: string;
  styleUri: string;
  codiconsUri: string;
}

export function contentSecurityPolicy(cspSource: string, nonce: string): string {
  return [
    "default-src 'none'",
    `img-src ${cspSource} data:`,
    `style-src ${cspSource}`,
    `font-src ${cspSource}`,
    `script-src 'nonce-${nonce}'`,
  ].join('; ');
}

export function makeNonce(random: () => number = Math.random): string {
  const chars = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  let out = '';
  for (let i = 0; i < 32; i += 1) {
    out += chars.charAt(Math.floor(random() * chars.length));
  }
  return out;
}

const escapeAttr = (s: string): string => s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');

export function chatHtml(o: ChatHtmlOptions): string {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${escapeAttr(contentSecurityPolicy(o.cspSource, o.nonce))}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${escapeAttr(o.codiconsUri)}">
<link rel="stylesheet" href="${escapeAttr(o.styleUri)}">
<title>yoi chat</title>
</head>
<body>
<div id="app" class="app">
  <nav id="tabs" class="tabs" role="tablist" aria-label="Chats" hidden></nav>
  <main id="transcript" class="transcript" role="log" aria-live="polite" aria-label="Conversation"></main>
  <section id="empty" class="empty">
    <i class="codicon codicon-comment-discussion" aria-hidden="true"></i>
    <p>Ask yoi about your code.</p>
    <p class="hint">Type <kbd>@</kbd> to attach a file (paste or drop an image), <kbd>Enter</kbd> to send, <kbd>Shift</kbd>+<kbd>Enter</kbd> for a new line.</p>
  </section>
  <div id="activity" class="activity" role="status" aria-live="polite" hidden></div>
  <footer class="composer">
    <div id="approval-queue" class="approval-queue" hidden></div>
    <div id="plan-ready" class="plan-ready" role="status" hidden>
      <i class="codicon codicon-checklist" aria-hidden="true"></i>
      <span class="plan-ready-text">The plan is ready.</span>
      <button id="execute-plan" class="plan-execute" type="button" title="Switch to Agent mode and carry out the plan">Execute plan</button>
    </div>
    <div id="picker" class="picker" role="listbox" aria-label="References" hidden></div>
    <div id="attachments" class="attachments" aria-label="Attached images" hidden></div>
    <div class="input-row">
      <textarea id="input" rows="1" placeholder="Ask yoi… (@ to add a file)" aria-label="Message yoi"
        aria-autocomplete="list" aria-controls="picker" aria-expanded="false"></textarea>
      <button id="send" class="icon-button primary" type="button" title="Send (Enter)" aria-label="Send">
        <i class="codicon codicon-send" aria-hidden="true"></i>
      </button>
      <button id="stop" class="icon-button" type="button" title="Stop" aria-label="Stop" hidden>
        <i class="codicon codicon-debug-stop" aria-hidden="true"></i>
      </button>
    </div>
    <div class="composer-bar">
      <div id="mode" class="mode-switch" role="radiogroup" aria-label="Mode">
${MODES.map((m) => `        <button type="button" role="radio" class="mode-option" data-mode="${m.mode}" aria-checked="${m.mode === 'agent' ? 'true' : 'false'}" title="${escapeAttr(`${m.label}: ${m.description}`)}">${m.label}</button>`).join('\n')}
      </div>
      <div id="status" class="status" aria-live="off"></div>
    </div>
  </footer>
</div>
<script nonce="${escapeAttr(o.nonce)}" src="${escapeAttr(o.scriptUri)}"></script>
</body>
</html>`;
}
