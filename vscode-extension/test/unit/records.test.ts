import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildTree, type GroupNode, type TreeNode } from '../../src/logic/records';
import type { KnowledgeRecord, MemoryRecord } from '../../src/protocol';

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
  const [knowledge] = buildTree([record('testing', false), record('build-steps', true)], 'available', undefined);
  assert.ok(knowledge !== undefined);
  assert.deepEqual(labels(knowledge.children), ['build steps', 'testing']);
  const first = knowledge.children[0];
  assert.ok(first?.kind === 'record');
  assert.equal(first.resident, true);
  assert.equal(first.tooltip, 'about build-steps');
  assert.equal(first.slug, 'build-steps');
});

test('a server without knowledge methods shows a note, not an error', () => {
  const tree = buildTree([], 'unavailable', undefined);
  assert.equal(tree.length, 1);
  const note = tree[0]?.children[0];
  assert.ok(note?.kind === 'note');
  assert.match(note.label, /Not available/);
});

const memory = (kind: MemoryRecord['kind'], slug: string | undefined, title: string, extra: Partial<MemoryRecord> = {}): MemoryRecord => ({
  kind,
  ...(slug === undefined ? {} : { slug }),
  title,
  preview: '',
  uri: `file:///ws/notes/${slug ?? 'summary'}.md`,
  updatedAt: 0,
  ...extra,
});

test('memory records (yoi/memory/list) appear as Summary, Decisions and Requests', () => {
  const tree = buildTree([], 'unavailable', {
    staged: 0,
    records: [
      memory('summary', undefined, 'Project summary', { preview: 'A CLI that greets.' }),
      memory('decision', 'use-tabs', 'Use tabs', { status: 'open', preview: 'Because.' }),
      memory('decision', 'alpha', 'Alpha first'),
      memory('request', 'faster-ci', 'faster-ci', { problem: 'broken frontmatter' }),
    ],
  });
  const group = tree[1];
  assert.ok(group !== undefined);
  assert.deepEqual(labels(group.children), ['Summary', 'Decisions', 'Requests']);
  const summary = group.children[0];
  assert.ok(summary?.kind === 'record');
  assert.deepEqual([summary.tooltip, summary.uri], ['A CLI that greets.', 'file:///ws/notes/summary.md']);
  const decisions = group.children[1] as GroupNode;
  assert.deepEqual(labels(decisions.children), ['Alpha first', 'Use tabs']);
  const decision = decisions.children[1];
  assert.ok(decision?.kind === 'record');
  assert.deepEqual([decision.label, decision.status, decision.tooltip], ['Use tabs', 'open', 'Because.']);
  const request = (group.children[2] as GroupNode).children[0];
  assert.ok(request?.kind === 'record');
  assert.equal(request.problem, 'broken frontmatter');
});

test('no memory group without records; staged extractions and a folder problem are notes', () => {
  assert.equal(buildTree([], 'available', { staged: 0, records: [] }).length, 1);
  assert.equal(buildTree([], 'available', undefined).length, 1);
  const [, group] = buildTree([], 'available', { staged: 2, records: [], problem: '[memory] memory_dir resolves outside the workspace' });
  assert.ok(group !== undefined);
  assert.deepEqual(labels(group.children), ['The configured memory folder is not used', '2 extractions wait to be consolidated']);
  assert.match((group.children[0] as { tooltip: string }).tooltip, /outside the workspace/);
});

test('a record the server could not read fully carries its problem', () => {
  const [knowledge] = buildTree([{ ...record('broken', false), problem: 'frontmatter is not YAML' }], 'available', undefined);
  const node = knowledge?.children[0];
  assert.ok(node?.kind === 'record');
  assert.equal(node.problem, 'frontmatter is not YAML');
});
