// Bundles the CLI with esbuild: fast to build, fast to start (subcommands load lazily as chunks).
import { build } from 'esbuild';
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
});
