// Bundles the CLI with esbuild: fast to build, fast to start (subcommands load lazily as chunks).
// The HTML report's browser script (src/report/browser/report-client.js) is bundled first and inlined as a
// string in place of src/report/html-client.ts, so the built CLI needs no esbuild at run time.
import { rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const clientEntry = fileURLToPath(new URL('../src/report/browser/report-client.js', import.meta.url));
// the same options as CLIENT_BUILD in src/report/html-client.ts
const client = await build({
  entryPoints: [clientEntry],
  bundle: true,
  format: 'iife',
  target: 'es2017',
  charset: 'utf8',
  legalComments: 'none',
  write: false,
});
const clientJs = client.outputFiles[0].text;

/** Replaces src/report/html-client.ts with the bundled browser script as a string constant. */
const inlineReportClient = {
  name: 'inline-report-client',
  setup(b) {
    b.onLoad({ filter: /[\\/]src[\\/]report[\\/]html-client\.ts$/ }, () => ({
      contents: `export const CLIENT_JS = ${JSON.stringify(clientJs)};\n`,
      loader: 'js',
    }));
  },
};

rmSync('dist', { recursive: true, force: true }); // no stale chunks from earlier builds
await build({
  entryPoints: ['src/cli/main.ts'],
  outdir: 'dist',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  packages: 'external',
  sourcemap: true,
  logLevel: 'warning',
  plugins: [inlineReportClient],
});
