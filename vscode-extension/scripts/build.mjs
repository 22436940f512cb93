// Bundles the extension (Node) and the chat webview (browser) with esbuild,
// and copies the webview's styles and codicons into dist/.
// The Context view's page (dist/context.js, context.css) is bundled the same way.
//   node scripts/build.mjs            dist/ (what the .vsix ships)
//   node scripts/build.mjs --tests    also out/: unit, webview and e2e tests
import * as esbuild from 'esbuild';
import { cpSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const at = (...p) => join(root, ...p);
const tests = process.argv.includes('--tests');

rmSync(at('dist'), { recursive: true, force: true });
mkdirSync(at('dist', 'codicons'), { recursive: true });
mkdirSync(at('out'), { recursive: true }); // `npm run package` writes out/yoi.vsix

const common = { bundle: true, logLevel: 'warning', legalComments: 'none', target: 'es2022' };

await Promise.all([
  esbuild.build({
    ...common,
    entryPoints: [at('src', 'extension.ts')],
    outfile: at('dist', 'extension.js'),
    platform: 'node',
    format: 'cjs',
    external: ['vscode'],
    minify: true,
    sourcemap: false,
  }),
  esbuild.build({
    ...common,
    entryPoints: [at('src', 'webview', 'main.ts')],
    outfile: at('dist', 'webview.js'),
    platform: 'browser',
    format: 'iife',
    minify: true,
  }),
  esbuild.build({
    ...common,
    entryPoints: [at('src', 'webview', 'context.ts')],
    outfile: at('dist', 'context.js'),
    platform: 'browser',
    format: 'iife',
    minify: true,
  }),
]);

cpSync(at('media', 'chat.css'), at('dist', 'chat.css'));
cpSync(at('media', 'context.css'), at('dist', 'context.css'));
for (const f of ['codicon.css', 'codicon.ttf']) {
  cpSync(at('node_modules', '@vscode', 'codicons', 'dist', f), at('dist', 'codicons', f));
}

if (tests) {
  rmSync(at('out', 'unit'), { recursive: true, force: true });
  const testEntries = (dir) =>
    readdirSync(at('test', dir))
      .filter((f) => f.endsWith('.test.ts'))
      .map((f) => at('test', dir, f));
  const nodeTest = {
    ...common,
    platform: 'node',
    format: 'esm',
    outExtension: { '.js': '.mjs' },
    external: ['playwright-core', 'vscode'],
    banner: { js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);" },
  };
  await Promise.all([
    esbuild.build({ ...nodeTest, entryPoints: testEntries('unit'), outdir: at('out', 'unit') }),
    esbuild.build({ ...nodeTest, entryPoints: testEntries('webview'), outdir: at('out', 'webview') }),
    esbuild.build({ ...nodeTest, entryPoints: testEntries('e2e'), outdir: at('out', 'e2e') }),
    esbuild.build({
      ...common,
      entryPoints: [at('test', 'webview', 'harness.ts')],
      outfile: at('out', 'webview', 'harness.js'),
      platform: 'browser',
      format: 'iife',
    }),
  ]);
}
