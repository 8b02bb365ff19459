// `tunelab init [dir]`: write the commented starter experiment (examples/spam-mini) into a folder.
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { InputError } from '../../core/index.ts';

/** The package root (holds package.json and examples/), from dist/ or src/cli/commands/. */
export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg)) {
      try {
        if (JSON.parse(readFileSync(pkg, 'utf8')).name === 'tunelab') return dir;
      } catch {
        /* keep looking */
      }
    }
    dir = dirname(dir);
  }
  throw new Error('cannot find the tunelab package folder (examples/ is missing)');
}

export default async function init(dirArg: string, opts: { force?: boolean }): Promise<number> {
  const dir = resolve(dirArg);
  const src = join(packageRoot(), 'examples', 'spam-mini');
  const files = [
    ['tunelab.yaml', 'tunelab.yaml'],
    ['messages.jsonl', 'messages.jsonl'],
  ];
  for (const [, to] of files) {
    const p = join(dir, to);
    if (existsSync(p) && !opts.force) throw new InputError(relative(process.cwd(), p) || p, 'already exists (pass --force to overwrite)');
  }
  mkdirSync(dir, { recursive: true });
  for (const [from, to] of files) {
    if (to.endsWith('.yaml')) {
      // editors with yaml-language-server complete and check keys against the schema shipped with tunelab
      const schema = relative(dir, join(packageRoot(), 'schema', 'tunelab.schema.json'))
        .split('\\')
        .join('/');
      writeFileSync(join(dir, to), `# yaml-language-server: $schema=${schema}\n` + readFileSync(join(src, from), 'utf8'));
    } else copyFileSync(join(src, from), join(dir, to));
  }
  const rel = relative(process.cwd(), dir) || '.';
  process.stdout.write(
    `wrote ${join(rel, 'tunelab.yaml')} and ${join(rel, 'messages.jsonl')} (120 labeled emails)\n` +
      `next: npx tunelab run${rel === '.' ? '' : ` ${join(rel, 'tunelab.yaml')}`}\n` +
      `  (runs offline with the built-in model: zero-shot and few-shot prompts vs a LoRA fine-tune;\n` +
      `   point the arms at the my-server model in tunelab.yaml to measure your own model;\n` +
      `   then \`npx tunelab view\` to browse every example)\n`,
  );
  return 0;
}
