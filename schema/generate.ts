// Writes schema/tunelab.schema.json from the zod schemas (run: node --import tsx schema/generate.ts).
// test/view/config-ux.test.ts fails when the committed file is out of date.
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { configJsonSchema } from '../src/experiment/index.ts';

export const SCHEMA_FILE = fileURLToPath(new URL('./tunelab.schema.json', import.meta.url));

export function schemaText(): string {
  return JSON.stringify(configJsonSchema(), null, 2) + '\n';
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  writeFileSync(SCHEMA_FILE, schemaText());
  process.stdout.write(`wrote ${SCHEMA_FILE}\n`);
}
