// tunelab pretrain [recipe] [--out dir] [--steps n] [--small] [--fresh]
import { parseArgs } from 'node:util';
import { existsSync } from 'node:fs';
import { InputError } from '../../core/index.ts';

const HELP = `Usage: tunelab pretrain [recipe] [options]

Pretrains a base model from a recipe (default recipes/base.yaml): builds the corpus and the synthetic
instruction mixture, trains the tokenizer and the model (seeded, resumable), evaluates it and writes a
Hugging Face folder with run.json, train_log.jsonl and MODEL_CARD.md.

Options:
  -o, --out <dir>   output folder (default: the recipe's output)
  --steps <n>       override train.steps
  --small           a tiny smoke run (small model, small data)
  --fresh           start over instead of resuming from the checkpoint under .tunelab/pretrain/
  -h, --help        this help
`;

export default async function pretrainCommand(recipe: string | undefined, _opts: unknown, cmd: { args: string[] }): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: (cmd?.args ?? []).filter((a) => a !== recipe),
      options: {
        out: { type: 'string', short: 'o' },
        steps: { type: 'string' },
        small: { type: 'boolean' },
        fresh: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
      allowPositionals: false,
    }));
  } catch (e) {
    throw new InputError('tunelab pretrain', `${(e as Error).message} (see tunelab pretrain --help)`);
  }
  if (values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  let file = recipe ?? 'recipes/base.yaml';
  if (!existsSync(file) && existsSync(`recipes/${file}.yaml`)) file = `recipes/${file}.yaml`;
  if (!existsSync(file)) throw new InputError(file, 'recipe not found (try recipes/base.yaml)');
  const steps = values.steps === undefined ? undefined : Number(values.steps);
  if (steps !== undefined && !(Number.isInteger(steps) && steps > 0)) throw new InputError('--steps', 'expected a positive integer');
  const { pretrain } = await import('../../finetune/pretrain/run.ts');
  await pretrain(file, { out: values.out, steps, small: values.small, fresh: values.fresh });
  return 0;
}
