import assert from 'node:assert/strict';
import { test } from 'node:test';
import { activeMention, formatFileMention, linesToRange, parseInput, segmentLabel, selectionLines } from '../../src/logic/mentions';

test('a file mention becomes a file segment between text', () => {
  assert.deepEqual(parseInput('fix @app.py please'), [
    { kind: 'text', text: 'fix ' },
    { kind: 'file', path: 'app.py' },
    { kind: 'text', text: ' please' },
  ]);
});

test('a line range becomes an LSP range with an exclusive end', () => {
  assert.deepEqual(parseInput('why @src/a.ts:10-20?'), [
    { kind: 'text', text: 'why ' },
    { kind: 'file', path: 'src/a.ts', range: { start: { line: 9, character: 0 }, end: { line: 20, character: 0 } } },
    { kind: 'text', text: '?' },
  ]);
  assert.deepEqual(parseInput('@a.py:3')[0], { kind: 'file', path: 'a.py', range: linesToRange(3, 3) });
});

test('trailing punctuation is not part of the path', () => {
  assert.deepEqual(parseInput('look at @app.py.'), [
    { kind: 'text', text: 'look at ' },
    { kind: 'file', path: 'app.py' },
    { kind: 'text', text: '.' },
  ]);
  assert.equal(parseInput('see @a.py, @b.py').filter((s) => s.kind === 'file').length, 2);
});

test('quoted paths may contain spaces', () => {
  assert.deepEqual(parseInput('@"my file.txt"'), [{ kind: 'file', path: 'my file.txt' }]);
});

test('a quoted path keeps its lines, as formatFileMention writes them', () => {
  const mention = formatFileMention('my notes/a b.py', { first: 3, last: 5 });
  assert.equal(mention, '@"my notes/a b.py":3-5');
  assert.deepEqual(parseInput(`look at ${mention}, please`), [
    { kind: 'text', text: 'look at ' },
    { kind: 'file', path: 'my notes/a b.py', range: linesToRange(3, 5) },
    { kind: 'text', text: ', please' },
  ]);
  assert.deepEqual(parseInput('@"a b.py":7'), [{ kind: 'file', path: 'a b.py', range: linesToRange(7, 7) }]);
  assert.deepEqual(parseInput('@"a b.py":x'), [
    { kind: 'file', path: 'a b.py' },
    { kind: 'text', text: ':x' },
  ]);
});

test('an email address and a bare @word are just text', () => {
  assert.deepEqual(parseInput('mail me@host.com about @decorators'), [
    { kind: 'text', text: 'mail me@host.com about @decorators' },
  ]);
});

test('a picked name without a dot is still a file', () => {
  assert.deepEqual(parseInput('@Makefile', { files: new Set(['Makefile']) }), [{ kind: 'file', path: 'Makefile' }]);
});

test('#slug is knowledge only when picked; /slug is a workflow only at the start', () => {
  const known = { knowledge: new Set(['style-guide']), workflows: new Set(['review']) };
  assert.deepEqual(parseInput('/review with #style-guide, not #12', known), [
    { kind: 'workflow', slug: 'review' },
    { kind: 'text', text: ' with ' },
    { kind: 'knowledge', slug: 'style-guide' },
    { kind: 'text', text: ', not #12' },
  ]);
  assert.deepEqual(parseInput('run /review', known), [{ kind: 'text', text: 'run /review' }]);
});

test('segment labels format back to what parses', () => {
  for (const text of ['@app.py', '@src/a.ts:10-20', '@"my file.txt"', '@a.py:3']) {
    const [segment] = parseInput(text);
    assert.ok(segment !== undefined);
    assert.equal(segmentLabel(segment), text);
  }
});

test('the active mention is found at the caret', () => {
  assert.deepEqual(activeMention('fix @sr', 7), { sigil: '@', query: 'sr', start: 4, end: 7 });
  assert.deepEqual(activeMention('@', 1), { sigil: '@', query: '', start: 0, end: 1 });
  assert.equal(activeMention('fix @src done', 13), undefined);
  assert.equal(activeMention('me@host', 7), undefined);
  assert.deepEqual(activeMention('x #sty', 6), { sigil: '#', query: 'sty', start: 2, end: 6 });
  assert.equal(activeMention('a/b', 3), undefined);
  assert.deepEqual(activeMention('/rev', 4), { sigil: '/', query: 'rev', start: 0, end: 4 });
});

test('a selection maps to 1-based lines; an end at column 0 excludes that line', () => {
  assert.deepEqual(selectionLines({ line: 9, character: 0 }, { line: 20, character: 0 }), { first: 10, last: 20 });
  assert.deepEqual(selectionLines({ line: 9, character: 4 }, { line: 9, character: 8 }), { first: 10, last: 10 });
  assert.equal(formatFileMention('a.py', { first: 10, last: 20 }), '@a.py:10-20');
  assert.equal(formatFileMention('a.py', { first: 4, last: 4 }), '@a.py:4');
});
