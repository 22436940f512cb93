/** Markdown for assistant replies: no raw HTML, code blocks with a copy button. */

import MarkdownIt from 'markdown-it';

const md = new MarkdownIt({ html: false, linkify: false, breaks: false, typographer: false });

md.renderer.rules.fence = (tokens, idx) => {
  const token = tokens[idx];
  if (token === undefined) {
    return '';
  }
  const lang = token.info.trim().split(/\s+/)[0] ?? '';
  const escaped = md.utils.escapeHtml(token.content);
  const label = lang === '' ? 'code' : md.utils.escapeHtml(lang);
  return (
    `<div class="code-block"><div class="code-head"><span class="code-lang">${label}</span>` +
    `<button type="button" class="icon-button copy-code" title="Copy code" aria-label="Copy code">` +
    `<i class="codicon codicon-copy" aria-hidden="true"></i></button></div>` +
    `<pre><code${lang === '' ? '' : ` class="language-${md.utils.escapeHtml(lang)}"`}>${escaped}</code></pre></div>`
  );
};

const defaultLink = md.renderer.rules.link_open;
md.renderer.rules.link_open = (tokens, idx, options, env, self) => {
  const token = tokens[idx];
  token?.attrSet('title', token.attrGet('href') ?? '');
  return defaultLink === undefined ? self.renderToken(tokens, idx, options) : defaultLink(tokens, idx, options, env, self);
};

export function renderMarkdown(text: string): string {
  return md.render(text);
}
