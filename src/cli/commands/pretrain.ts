// tunelab pretrain [recipe] [--out dir] [--steps n] [--small] [--fresh]
import { parseArgs } from 'node:util';
import { existsSync } from 'node:fs';
import { InputError } from '../../task/types.ts';

export default async function pretrainCommand(recipe: string | undefined, _opts: unknown, cmd: { args: string[] }): Promise<number> {
  const { values } = parseArgs({
    args: (cmd?.args ?? []).filter((a) => a !== recipe),
    options: { out: { type: 'string', short: 'o' }, steps: { type: 'string' }, small: { type: 'boolean' }, fresh: { type: 'boolean' } },
    allowPositionals: true,
  });
  let file = recipe ?? 'recipes/base.yaml';
  if (!existsSync(file) && existsSync(`recipes/${file}.yaml`)) file = `recipes/${file}.yaml`;
  if (!existsSync(file)) throw new InputError(file, 'recipe not found (try recipes/base.yaml)');
  const steps = values.steps === undefined ? undefined : Number(values.steps);
  if (steps !== undefined && !(Number.isInteger(steps) && steps > 0)) throw new InputError('--steps', 'expected a positive integer');
  const { pretrain } = await import('../../finetune/pretrain/run.ts');
  await pretrain(file, { out: values.out, steps, small: values.small, fresh: values.fresh });
  return 0;
}
