/**
 * The Context view's HTML (`Yoi: Show Context`): the same strict
 * Content-Security-Policy as the chat and one nonce'd bundled script. Pure.
 */

import { contentSecurityPolicy, type ChatHtmlOptions } from './chatHtml';

const escapeAttr = (s: string): string => s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');

export function contextHtml(o: ChatHtmlOptions): string {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${escapeAttr(contentSecurityPolicy(o.cspSource, o.nonce))}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${escapeAttr(o.codiconsUri)}">
<link rel="stylesheet" href="${escapeAttr(o.styleUri)}">
<title>yoi: Context</title>
</head>
<body>
<div id="context" class="context" aria-busy="true">
  <header class="context-head">
    <h1>Context window</h1>
    <span id="context-model" class="context-model"></span>
    <button id="context-refresh" class="icon-button" type="button" title="Refresh" aria-label="Refresh">
      <i class="codicon codicon-refresh" aria-hidden="true"></i>
    </button>
  </header>
  <p id="context-headline" class="context-headline" role="status" aria-live="polite">Loading…</p>
  <div id="context-meter" class="context-meter" hidden><div class="context-meter-fill"></div></div>
  <p id="context-estimate" class="context-note"></p>
  <div id="context-groups" class="context-groups"></div>
  <p id="context-pruned" class="context-pruned"></p>
</div>
<script nonce="${escapeAttr(o.nonce)}" src="${escapeAttr(o.scriptUri)}"></script>
</body>
</html>`;
}
