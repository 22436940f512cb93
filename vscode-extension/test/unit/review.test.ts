import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ApplyWorkspaceEditParams } from 'vscode-languageserver-protocol';
import { planEdit } from '../../src/logic/editPlan';
import { applyKept, buildChanges, changeAt, reviewView, tally, type TextEditLike } from '../../src/logic/review';

function nth<T>(items: readonly T[], index: number): T {
  const item = items[index];
  assert.ok(item !== undefined, `no item ${index}`);
  return item;
}

const BASE = 'def main():\n    return 1\n\n\ndef other():\n    return 3\n';

/** Whole-line edits, as the server sends them (one per hunk). */
const lineEdit = (first: number, end: number, newText: string): TextEditLike => ({
  range: { start: { line: first, character: 0 }, end: { line: end, character: 0 } },
  newText,
});

const TWO = [lineEdit(1, 2, '    return 2\n'), lineEdit(5, 6, '    return 4\n')];

test('each hunk is a change with its old and new lines', () => {
  const changes = buildChanges(BASE, TWO);
  assert.equal(changes.length, 2);
  assert.deepEqual(
    changes.map((c) => [c.first, c.end, c.oldLines, c.newLines, c.state]),
    [
      [1, 2, ['    return 1'], ['    return 2'], 'pending'],
      [5, 6, ['    return 3'], ['    return 4'], 'pending'],
    ],
  );
});

test('the review document shows old then new lines of each pending change, in place', () => {
  const view = reviewView(BASE, buildChanges(BASE, TWO));
  assert.equal(view.text, 'def main():\n    return 1\n    return 2\n\n\ndef other():\n    return 3\n    return 4\n');
  assert.deepEqual(view.changes[0], { index: 0, state: 'pending', line: 1, removed: { start: 1, end: 2 }, added: { start: 2, end: 3 } });
  assert.deepEqual(view.changes[1], { index: 1, state: 'pending', line: 6, removed: { start: 6, end: 7 }, added: { start: 7, end: 8 } });
});

test('a kept change shows its new lines, an undone one its old lines', () => {
  const changes = buildChanges(BASE, TWO);
  nth(changes, 0).state = 'kept';
  nth(changes, 1).state = 'undone';
  const view = reviewView(BASE, changes);
  assert.equal(view.text, BASE.replace('return 1', 'return 2'));
  assert.deepEqual(view.changes.map((c) => [c.state, c.line, c.removed, c.added]), [
    ['kept', 1, { start: 1, end: 1 }, { start: 1, end: 1 }], // decided: no colours, only the lens says how
    ['undone', 5, { start: 5, end: 5 }, { start: 6, end: 6 }],
  ]);
});

test('only kept changes are applied', () => {
  const changes = buildChanges(BASE, TWO);
  assert.equal(applyKept(BASE, changes), BASE);
  nth(changes, 1).state = 'kept';
  assert.equal(applyKept(BASE, changes), BASE.replace('return 3', 'return 4'));
  nth(changes, 0).state = 'kept';
  assert.equal(applyKept(BASE, changes), BASE.replace('return 3', 'return 4').replace('return 1', 'return 2'));
  assert.deepEqual(tally(changes), { total: 2, kept: 2, undone: 0 });
});

test('insertions, deletions and a new file', () => {
  const insert = buildChanges(BASE, [lineEdit(2, 2, '# added\n')]);
  assert.deepEqual([nth(insert, 0).oldLines, nth(insert, 0).newLines], [[], ['# added']]);
  const removal = buildChanges(BASE, [lineEdit(4, 6, '')]);
  assert.deepEqual([nth(removal, 0).oldLines, nth(removal, 0).newLines], [['def other():', '    return 3'], []]);
  const created = buildChanges('', [lineEdit(0, 0, 'a\nb\n')]);
  assert.equal(reviewView('', created).text, 'a\nb\n');
  nth(created, 0).state = 'kept';
  assert.equal(applyKept('', created), 'a\nb\n');
});

test('edits inside one line, and edits that touch the same lines, make one change', () => {
  const inLine: TextEditLike = { range: { start: { line: 1, character: 11 }, end: { line: 1, character: 12 } }, newText: '9' };
  const changes = buildChanges(BASE, [inLine, lineEdit(1, 2, '')].slice(0, 1));
  assert.deepEqual([nth(changes, 0).oldLines, nth(changes, 0).newLines], [['    return 1'], ['    return 9']]);
  const both = buildChanges(BASE, [inLine, { range: { start: { line: 1, character: 4 }, end: { line: 1, character: 10 } }, newText: 'yield' }]);
  assert.equal(both.length, 1);
  assert.deepEqual(nth(both, 0).newLines, ['    yield 9']);
});

test('commands act on the change at the cursor, else the next pending one', () => {
  const changes = buildChanges(BASE, TWO);
  const view = reviewView(BASE, changes);
  assert.equal(changeAt(view, 2), 0);
  assert.equal(changeAt(view, 4), 1);
  nth(changes, 1).state = 'kept';
  assert.equal(changeAt(reviewView(BASE, changes), 7), 0);
});

const annotated = (needsConfirmation: boolean): ApplyWorkspaceEditParams => ({
  label: 'yoi: edit_file app.py (call call_edit)',
  edit: {
    documentChanges: [{ textDocument: { uri: 'file:///ws/app.py', version: 7 }, edits: TWO.map((e) => ({ ...e, annotationId: 'yoi' })) }],
    changeAnnotations: { yoi: { label: 'yoi: edit_file app.py (call call_edit)', needsConfirmation } },
  },
});

test('an edit that needs confirmation is reviewed, with its tool call', () => {
  const plan = planEdit(annotated(true));
  assert.ok(plan.kind === 'review');
  assert.equal(plan.callId, 'call_edit');
  assert.deepEqual(plan.files.map((f) => [f.uri, f.version, f.create, f.edits.length]), [['file:///ws/app.py', 7, false, 2]]);
});

test('an edit without annotations (or none needing confirmation) is applied directly', () => {
  assert.deepEqual(planEdit(annotated(false)), { kind: 'direct' });
  assert.deepEqual(planEdit({ edit: { changes: { 'file:///ws/a.py': [lineEdit(0, 0, 'x\n')] } } }), { kind: 'direct' });
});

test('a new file is a creation followed by its content', () => {
  const plan = planEdit({
    edit: {
      documentChanges: [
        { kind: 'create', uri: 'file:///ws/new.py', options: { overwrite: false, ignoreIfExists: false }, annotationId: 'yoi' },
        { textDocument: { uri: 'file:///ws/new.py', version: null }, edits: [{ ...lineEdit(0, 0, 'print(1)\n'), annotationId: 'yoi' }] },
      ],
      changeAnnotations: { yoi: { label: 'yoi: write_file new.py (call c9)', needsConfirmation: true } },
    },
  });
  assert.ok(plan.kind === 'review');
  assert.deepEqual(plan.files.map((f) => [f.uri, f.create, f.edits.length]), [['file:///ws/new.py', true, 1]]);
  assert.equal(plan.callId, 'c9');
});

test('renames and deletions that need confirmation go to the Refactor Preview', () => {
  const plan = planEdit({
    edit: {
      documentChanges: [{ kind: 'delete', uri: 'file:///ws/old.py', annotationId: 'yoi' }],
      changeAnnotations: { yoi: { label: 'yoi: delete', needsConfirmation: true } },
    },
  });
  assert.deepEqual(plan, { kind: 'preview', label: 'yoi: delete' });
});
