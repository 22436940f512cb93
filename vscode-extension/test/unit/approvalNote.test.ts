import assert from 'node:assert/strict';
import { test } from 'node:test';
import { approvalNote, approvalPrompt } from '../../src/logic/approval';

const REASON = 'Run `python3 greet.py` in the workspace root (note: greet.py has unsaved changes in the editor; the command will see the saved version)';

test("the server's note about unsaved files is read from a command's reason", () => {
  assert.equal(approvalNote(REASON), 'note: greet.py has unsaved changes in the editor; the command will see the saved version');
  assert.equal(approvalNote('Run `ls` in the workspace root'), undefined);
  const prompt = approvalPrompt({ podId: 'p', toolCallId: 'c', tool: 'run_command', arguments: { command: 'python3 greet.py' }, reason: REASON }, '/ws');
  assert.match(prompt.detail, /^note: greet\.py has unsaved changes in the editor; the command will see the saved version\n\nWorking directory: \/ws/);
});
