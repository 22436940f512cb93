import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { test } from 'node:test';
import { interpretProbe, PROBE_SCRIPT, resolveInterpreter } from '../../src/logic/interpreter';

test('the setting wins over the Python extension and python3', () => {
  assert.deepEqual(resolveInterpreter({ setting: '/opt/py/bin/python', pythonExtension: '/env/bin/python' }), {
    command: '/opt/py/bin/python',
    source: 'setting',
  });
});

test('the Python extension is used when the setting is empty or blank', () => {
  assert.deepEqual(resolveInterpreter({ setting: '  ', pythonExtension: '/env/bin/python' }), {
    command: '/env/bin/python',
    source: 'pythonExtension',
  });
});

test('python3 is the last resort', () => {
  assert.deepEqual(resolveInterpreter({}), { command: 'python3', source: 'default' });
});

test('~ and ${workspaceFolder} are expanded in the setting', () => {
  assert.equal(resolveInterpreter({ setting: '~/venv/bin/python', home: '/home/me' }).command, '/home/me/venv/bin/python');
  assert.equal(
    resolveInterpreter({ setting: '${workspaceFolder}/.venv/bin/python', workspaceFolder: '/ws' }).command,
    '/ws/.venv/bin/python',
  );
});

const py = { command: '/usr/bin/python3', source: 'default' as const };

test('a good probe is accepted', () => {
  const out = interpretProbe(py, { exitCode: 0, stdout: '{"version": [3, 12, 1], "yoi": "0.1.0"}\n', stderr: '' });
  assert.ok(out.ok);
  assert.equal(out.report.yoi, '0.1.0');
});

test('an old Python is refused with the version and what to do', () => {
  const out = interpretProbe(py, { exitCode: 0, stdout: '{"version": [3, 9, 2], "yoi": null}', stderr: '' });
  assert.ok(!out.ok);
  assert.match(out.message, /needs Python 3\.11 or newer/);
  assert.match(out.message, /3\.9\.2/);
  assert.match(out.message, /yoi\.server\.python/);
});

test('a Python without yoi gets the install command for that interpreter', () => {
  const out = interpretProbe(py, {
    exitCode: 0,
    stdout: '{"version": [3, 11, 4], "yoi": null, "error": "PackageNotFoundError: yoi"}',
    stderr: '',
  });
  assert.ok(!out.ok);
  assert.match(out.message, /yoi is not installed/);
  assert.match(out.message, /\/usr\/bin\/python3 -m pip install yoi/);
});

test('an interpreter that cannot start is named', () => {
  const out = interpretProbe({ command: 'pythonX', source: 'setting' }, { exitCode: null, stdout: '', stderr: '', spawnError: 'spawn pythonX ENOENT' });
  assert.ok(!out.ok);
  assert.match(out.message, /setting yoi\.server\.python \(pythonX\)/);
  assert.match(out.message, /ENOENT/);
});

test('garbage output is reported with the last stderr line', () => {
  const out = interpretProbe(py, { exitCode: 1, stdout: '', stderr: 'Traceback...\nSyntaxError: bad' });
  assert.ok(!out.ok);
  assert.match(out.message, /SyntaxError: bad/);
});

test('the probe script runs on a real Python and reports its version', () => {
  const stdout = execFileSync('python3', ['-c', PROBE_SCRIPT], { encoding: 'utf8' });
  const report = JSON.parse(stdout) as { version: number[]; yoi: string | null };
  assert.equal(report.version.length, 3);
  assert.equal(report.version[0], 3);
});
