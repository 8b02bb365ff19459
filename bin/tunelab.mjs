#!/usr/bin/env node
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
const dist = fileURLToPath(new URL('../dist/main.js', import.meta.url));
if (!existsSync(dist)) {
  process.stderr.write('tunelab: dist/ is missing; run `npm run build` (npm ci does it for you)\n');
  process.exit(2);
}
await import(dist);
