import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { explainStartFailure, interpretProbe, PROBE_SCRIPT, resolveInterpreter } from '../../src/logic/interpreter';

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
  assert.match(out.message, /\/usr\/bin\/python3 from PATH/, 'which interpreter');
  assert.match(out.message, /the yoi package is not installed/, 'what is missing');
  assert.match(out.message, /Fix: run `\/usr\/bin\/python3 -m pip install yoi`/, 'the command that fixes it');
  assert.equal(out.fix, '/usr/bin/python3 -m pip install yoi');
});

test('yoi without its requirements (a checkout on the path of a bare python) is refused, naming them', () => {
  const out = interpretProbe(py, { exitCode: 0, stdout: '{"version": [3, 11, 4], "yoi": "0.1.0", "missing": ["pygls", "lsprotocol"]}', stderr: '' }, '/ws');
  assert.ok(!out.ok);
  assert.match(out.message, /what it needs is not installed: pygls, lsprotocol/);
  assert.match(out.message, /Fix: run `\/usr\/bin\/python3 -m pip install yoi`/);
});

test('the probe finds the requirements a python lacks', () => {
  const folder = mkdtempSync(join(tmpdir(), 'yoi-probe-'));
  mkdirSync(join(folder, 'server'));
  writeFileSync(join(folder, 'server', '__init__.py'), '');
  writeFileSync(join(folder, 'server', 'cli.py'), '');
  mkdirSync(join(folder, 'yoi.egg-info'));
  writeFileSync(join(folder, 'yoi.egg-info', 'PKG-INFO'), 'Metadata-Version: 2.1\nName: yoi\nVersion: 0.0.1\n');
  writeFileSync(join(folder, 'yoi.egg-info', 'requires.txt'), 'json5-not-installed-anywhere>=1\n\n[dev]\npytest>=8\n');
  const report = JSON.parse(execFileSync('python3', ['-c', PROBE_SCRIPT], { encoding: 'utf8', cwd: folder })) as { yoi: string | null; missing?: string[] };
  assert.equal(report.yoi, '0.0.1');
  assert.deepEqual(report.missing, ['json5-not-installed-anywhere']);
});

test('a module that does not import in the server folder is named, with the folder', () => {
  const out = interpretProbe(
    py,
    { exitCode: 0, stdout: '{"version": [3, 11, 4], "yoi": null, "error": "ModuleNotFoundError: No module named \'server\'"}', stderr: '' },
    '/home/me/project',
  );
  assert.ok(!out.ok);
  assert.match(out.message, /\(run in \/home\/me\/project\)/);
  assert.match(out.message, /the module server cannot be imported/);
});

test('the probe runs in the folder it is given, like the server (a checkout on sys.path only there)', () => {
  const folder = mkdtempSync(join(tmpdir(), 'yoi-probe-'));
  mkdirSync(join(folder, 'server'));
  writeFileSync(join(folder, 'server', '__init__.py'), '');
  writeFileSync(join(folder, 'server', 'cli.py'), '');
  mkdirSync(join(folder, 'yoi.egg-info')); // what `pip install -e .` leaves in a checkout
  writeFileSync(join(folder, 'yoi.egg-info', 'PKG-INFO'), 'Metadata-Version: 2.1\nName: yoi\nVersion: 0.0.1\n');
  const run = (cwd: string): { yoi: string | null; error?: string } =>
    JSON.parse(execFileSync('python3', ['-c', PROBE_SCRIPT], { encoding: 'utf8', cwd })) as { yoi: string | null; error?: string };
  // Here `server.cli` imports from the folder (sys.path[0] is the folder, as with `python -m`);
  // elsewhere it does not: a probe in another folder would not tell what the server will meet.
  assert.equal(run(folder).yoi, '0.0.1');
  assert.equal(run(tmpdir()).yoi, null);
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

test('a server that dies at start is explained by its last error line', () => {
  const traceback = ['Traceback (most recent call last):', '  File "x.py", line 1, in <module>', "ModuleNotFoundError: No module named 'pygls'"];
  const missing = explainStartFailure(py, traceback, 'Pending response rejected since connection got disposed');
  assert.match(missing.message, /the module pygls is missing/);
  assert.equal(missing.fix, '/usr/bin/python3 -m pip install yoi');
  const other = explainStartFailure(py, ['RuntimeError: no event loop'], 'write EPIPE');
  assert.match(other.message, /did not start: RuntimeError: no event loop/);
  assert.match(explainStartFailure(py, [], 'write EPIPE').message, /did not start: write EPIPE\. See "Yoi: Show Server Log"/);
});
