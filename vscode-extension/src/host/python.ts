/** Finds the interpreter (setting → Python extension → python3) and probes it. */

import { execFile } from 'node:child_process';
import * as os from 'node:os';
import * as vscode from 'vscode';
import { interpretProbe, PROBE_SCRIPT, resolveInterpreter, type Interpreter, type ProbeOutcome } from '../logic/interpreter';

interface PythonExtensionApi {
  environments?: {
    getActiveEnvironmentPath(resource?: vscode.Uri): { path: string };
    resolveEnvironment(env: { path: string }): Promise<{ executable: { uri?: vscode.Uri } } | undefined>;
  };
}

async function fromPythonExtension(folder: vscode.Uri | undefined): Promise<string | undefined> {
  const extension = vscode.extensions.getExtension<PythonExtensionApi>('ms-python.python');
  if (extension === undefined) {
    return undefined;
  }
  try {
    const api = extension.isActive ? extension.exports : await extension.activate();
    const environments = api.environments;
    if (environments === undefined) {
      return undefined;
    }
    const active = environments.getActiveEnvironmentPath(folder);
    const resolved = await environments.resolveEnvironment(active);
    return resolved?.executable.uri?.fsPath ?? active.path;
  } catch {
    return undefined; // the Python extension is optional
  }
}

export async function findInterpreter(): Promise<Interpreter> {
  const folder = vscode.workspace.workspaceFolders?.[0]?.uri;
  const setting = vscode.workspace.getConfiguration('yoi', folder).get<string>('server.python');
  const inputs = {
    home: os.homedir(),
    ...(setting === undefined ? {} : { setting }),
    ...(folder === undefined ? {} : { workspaceFolder: folder.fsPath }),
  };
  const chosen = resolveInterpreter(inputs);
  if (chosen.source === 'setting') {
    return chosen;
  }
  const fromExtension = await fromPythonExtension(folder);
  return resolveInterpreter(fromExtension === undefined ? inputs : { ...inputs, pythonExtension: fromExtension });
}

/** How the server will be started: the probe runs the same way. */
export interface Launch {
  command: string;
  env: NodeJS.ProcessEnv;
  cwd: string | undefined;
}

export function probe(interpreter: Interpreter, launch: Launch): Promise<ProbeOutcome> {
  const options = { timeout: 30_000, env: launch.env, ...(launch.cwd === undefined ? {} : { cwd: launch.cwd }) };
  return new Promise((resolve) => {
    execFile(launch.command, ['-c', PROBE_SCRIPT], options, (error, stdout, stderr) => {
      const spawnFailed = error !== null && (error as NodeJS.ErrnoException).code !== undefined && typeof (error as NodeJS.ErrnoException).code === 'string';
      resolve(
        interpretProbe(interpreter, {
          exitCode: error === null ? 0 : typeof error.code === 'number' ? error.code : null,
          stdout,
          stderr,
          ...(spawnFailed ? { spawnError: error.message } : {}),
        }, launch.cwd),
      );
    });
  });
}
