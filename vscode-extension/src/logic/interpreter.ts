/**
 * Which Python runs `yoi lsp --stdio`, and whether it can. Pure: the host
 * gathers the inputs (the setting, the Python extension's environment) and runs
 * the probe; this module decides and words the errors.
 */

export type InterpreterSource = 'setting' | 'pythonExtension' | 'default';

export interface Interpreter {
  command: string;
  source: InterpreterSource;
}

export interface InterpreterInputs {
  /** `yoi.server.python`, as the user typed it */
  setting?: string;
  /** the Python extension's active interpreter, when that extension is installed */
  pythonExtension?: string;
  /** for `~` and `${workspaceFolder}` in the setting */
  home?: string;
  workspaceFolder?: string;
}

export const DEFAULT_PYTHON = 'python3';
export const MIN_PYTHON: readonly [number, number] = [3, 11];

/** The server's command line after the interpreter. */
export const SERVER_ARGS: readonly string[] = ['-m', 'server.cli', 'lsp', '--stdio'];

function expand(value: string, inputs: InterpreterInputs): string {
  let out = value.trim();
  if (inputs.home !== undefined && (out === '~' || out.startsWith('~/'))) {
    out = inputs.home + out.slice(1);
  }
  if (inputs.workspaceFolder !== undefined) {
    out = out.split('${workspaceFolder}').join(inputs.workspaceFolder);
  }
  return out;
}

/** The setting, else the Python extension's environment, else `python3`. */
export function resolveInterpreter(inputs: InterpreterInputs): Interpreter {
  const setting = inputs.setting === undefined ? '' : expand(inputs.setting, inputs);
  if (setting !== '') {
    return { command: setting, source: 'setting' };
  }
  const fromExtension = inputs.pythonExtension?.trim() ?? '';
  if (fromExtension !== '') {
    return { command: fromExtension, source: 'pythonExtension' };
  }
  return { command: DEFAULT_PYTHON, source: 'default' };
}

/**
 * Run as `python -c PROBE_SCRIPT`: prints one JSON line with the version and
 * whether the `yoi` distribution and its server module import.
 */
export const PROBE_SCRIPT = [
  'import json, re, sys',
  'out = {"version": list(sys.version_info[:3]), "executable": sys.executable}',
  'try:',
  '    import importlib.metadata as m',
  '    out["yoi"] = m.version("yoi")',
  '    missing = []',
  '    for req in m.requires("yoi") or []:',
  '        if ";" in req:',
  '            continue',
  '        name = re.match(r"[A-Za-z0-9_.-]+", req).group(0)',
  '        try:',
  '            m.version(name)',
  '        except m.PackageNotFoundError:',
  '            missing.append(name)',
  '    if missing:',
  '        out["missing"] = missing',
  '    import server.cli',
  'except Exception as e:',
  '    out["yoi"] = None',
  '    out["error"] = f"{type(e).__name__}: {e}"',
  'print(json.dumps(out))',
].join('\n');

export interface ProbeReport {
  version: [number, number, number];
  executable?: string;
  yoi: string | null;
  error?: string;
  /** yoi's requirements that are not installed for this interpreter */
  missing?: string[];
}

export type ProbeOutcome =
  | { ok: true; report: ProbeReport }
  /** `fix`: the command that fixes it, when there is one */
  | { ok: false; message: string; fix?: string };

function describeSource(interpreter: Interpreter): string {
  switch (interpreter.source) {
    case 'setting':
      return `the interpreter from the setting yoi.server.python (${interpreter.command})`;
    case 'pythonExtension':
      return `the Python extension's active interpreter (${interpreter.command})`;
    case 'default':
      return `${interpreter.command} from PATH`;
  }
}

/** What the probe's import error says is missing. */
function missing(error: string | undefined): string {
  if (error === undefined || /PackageNotFoundError/.test(error)) {
    return 'the yoi package is not installed';
  }
  const module = /No module named '([^']+)'/.exec(error)?.[1];
  return module !== undefined ? `the module ${module} cannot be imported (${error})` : `yoi cannot be imported (${error})`;
}

/** Turn the probe's exit into one actionable sentence, or the report. */
export function interpretProbe(
  interpreter: Interpreter,
  result: { exitCode: number | null; stdout: string; stderr: string; spawnError?: string },
  folder?: string,
): ProbeOutcome {
  const who = describeSource(interpreter);
  if (result.spawnError !== undefined) {
    return {
      ok: false,
      message: `yoi could not start ${who}: ${result.spawnError}. Install Python ${MIN_PYTHON.join('.')} or newer, or set yoi.server.python to its path.`,
    };
  }
  const line = result.stdout.trim().split('\n').pop() ?? '';
  let report: ProbeReport;
  try {
    report = JSON.parse(line) as ProbeReport;
  } catch {
    const detail = result.stderr.trim().split('\n').pop() ?? `exit code ${String(result.exitCode)}`;
    return { ok: false, message: `yoi could not run ${who} (${detail}). Set yoi.server.python to a working Python ${MIN_PYTHON.join('.')}+.` };
  }
  const [major, minor] = report.version;
  if (major < MIN_PYTHON[0] || (major === MIN_PYTHON[0] && minor < MIN_PYTHON[1])) {
    return {
      ok: false,
      message: `yoi needs Python ${MIN_PYTHON.join('.')} or newer, but ${who} is Python ${report.version.join('.')}. Set yoi.server.python to a newer interpreter.`,
    };
  }
  if (report.yoi === null) {
    const fix = `${interpreter.command} -m pip install yoi`;
    const where = folder === undefined ? '' : ` (run in ${folder})`;
    return {
      ok: false,
      fix,
      message:
        `yoi cannot start with ${who}${where}: ${missing(report.error)}. ` +
        `Fix: run \`${fix}\` (in a yoi checkout: \`make install\`), or set yoi.server.python to the python of a virtualenv that has yoi.`,
    };
  }
  if (report.missing !== undefined && report.missing.length > 0) {
    const fix = `${interpreter.command} -m pip install yoi`;
    const where = folder === undefined ? '' : ` (run in ${folder})`;
    return {
      ok: false,
      fix,
      message:
        `yoi cannot start with ${who}${where}: yoi ${report.yoi} is there, but what it needs is not installed: ${report.missing.join(', ')}. ` +
        `Fix: run \`${fix}\` (in a yoi checkout: \`make install\`), or set yoi.server.python to the python of a virtualenv that has yoi.`,
    };
  }
  return { ok: true, report };
}

/**
 * Why a server that passed the probe still did not start, from the last
 * lines it wrote to stderr (a traceback's last line names the problem).
 */
export function explainStartFailure(interpreter: Interpreter, stderr: readonly string[], error: string): { message: string; fix?: string } {
  const command = `${interpreter.command} ${SERVER_ARGS.join(' ')}`;
  const last = [...stderr].reverse().find((line) => /^[A-Za-z_.]*(Error|Exception|Exit)\b/.test(line.trim()))?.trim();
  const module = last === undefined ? undefined : /No module named '([^']+)'/.exec(last)?.[1];
  if (module !== undefined) {
    const fix = `${interpreter.command} -m pip install yoi`;
    return {
      fix,
      message: `The yoi server (${command}) stopped at start: the module ${module} is missing (${last ?? ''}). Fix: run \`${fix}\`, or set yoi.server.python to the python of a virtualenv that has yoi.`,
    };
  }
  const why = last ?? error;
  return { message: `The yoi server (${command}) did not start: ${why}. See "Yoi: Show Server Log" for its output.` };
}
