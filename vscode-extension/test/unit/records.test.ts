import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildTree, frontmatter, titleOf, type GroupNode, type TreeNode } from '../../src/logic/records';
import type { KnowledgeRecord } from '../../src/protocol';

const record = (slug: string, resident: boolean): KnowledgeRecord => ({
  slug,
  title: slug.replace(/-/g, ' '),
  description: `about ${slug}`,
  modelInvocation: resident,
  uri: `file:///ws/.yoi/knowledge/${slug}.md`,
  updatedAt: 0,
});

const labels = (nodes: TreeNode[]): string[] => nodes.map((n) => n.label);

test('knowledge records are listed by title, resident ones marked', () => {
  const [knowledge] = buildTree([record('testing', false), record('build-steps', true)], 'available', []);
  assert.ok(knowledge !== undefined);
  assert.deepEqual(labels(knowledge.children), ['build steps', 'testing']);
  const first = knowledge.children[0];
  assert.ok(first?.kind === 'record');
  assert.equal(first.resident, true);
  assert.equal(first.tooltip, 'about build-steps');
  assert.equal(first.slug, 'build-steps');
});

test('a server without knowledge methods shows a note, not an error', () => {
  const tree = buildTree([], 'unavailable', []);
  assert.equal(tree.length, 1);
  const note = tree[0]?.children[0];
  assert.ok(note?.kind === 'note');
  assert.match(note.label, /Not available/);
});

test('memory files appear as Summary, Decisions and Requests', () => {
  const tree = buildTree([], 'unavailable', [
    { folder: 'decisions', slug: 'use-tabs', uri: 'file:///m/d.md', text: '---\nstatus: open\ndescription: "Tabs or spaces"\n---\n# Use tabs\n\nBecause.' },
    { folder: 'summary', slug: 'summary', uri: 'file:///m/s.md', text: '# Summary\n' },
    { folder: 'requests', slug: 'faster-ci', uri: 'file:///m/r.md', text: 'Make CI faster' },
  ]);
  const memory = tree[1];
  assert.ok(memory !== undefined);
  assert.deepEqual(labels(memory.children), ['Summary', 'Decisions', 'Requests']);
  const decisions = memory.children[1] as GroupNode;
  const decision = decisions.children[0];
  assert.ok(decision?.kind === 'record');
  assert.deepEqual([decision.label, decision.status, decision.tooltip], ['Use tabs', 'open', 'Tabs or spaces']);
});

test('frontmatter and titles are read from plain Markdown', () => {
  assert.deepEqual(frontmatter('---\na: 1\nb: "two"\n---\nbody'), { fields: { a: '1', b: 'two' }, body: 'body' });
  assert.deepEqual(frontmatter('no frontmatter'), { fields: {}, body: 'no frontmatter' });
  assert.equal(titleOf('\n\nintro\n# Heading', 'slug'), 'Heading');
  assert.equal(titleOf('', 'slug'), 'slug');
});

test('a record the server could not read fully carries its problem', () => {
  const [knowledge] = buildTree([{ ...record('broken', false), problem: 'frontmatter is not YAML' }], 'available', []);
  const node = knowledge?.children[0];
  assert.ok(node?.kind === 'record');
  assert.equal(node.problem, 'frontmatter is not YAML');
});
