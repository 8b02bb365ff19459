// The browser-side script of the HTML report, as one string so the report stays one file. The script itself
// is browser/report-client.js (checked by tsc with browser/tsconfig.json, linted with browser globals).
// scripts/build.mjs bundles it with esbuild and inlines the result in place of this module; run from source
// (tsx, tests), the same esbuild bundle is made here on first load.
import { fileURLToPath } from 'node:url';
import { buildSync } from 'esbuild';

/** esbuild options shared with scripts/build.mjs, so source and build runs inline the same script. */
export const CLIENT_BUILD = {
  bundle: true,
  format: 'iife',
  target: 'es2017',
  charset: 'utf8',
  legalComments: 'none',
  write: false,
} as const;

function bundle(): string {
  const entry = fileURLToPath(new URL('./browser/report-client.js', import.meta.url));
  return buildSync({ ...CLIENT_BUILD, entryPoints: [entry] }).outputFiles[0].text;
}

export const CLIENT_JS: string = bundle();
