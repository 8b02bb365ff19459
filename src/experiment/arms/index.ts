// The built-in arm kinds, one entry each. Light kinds (prompting) are imported here; heavy ones are
// lazyArmKind entries: their schema comes from a light module, their factory module is imported only when
// an arm of that kind runs, so `tunelab report`, `runs` and a hosted-only `run` never load the engine.
// To add a kind: write its module exporting `create` (and its schema in a light file if the module is
// heavy), then add one line below.
import { registerArmKind, lazyArmKind, type ArmKind } from './registry.ts';
import { promptArmKind } from './prompt.ts';
import { fewshotArmKind } from './fewshot.ts';
import { variantsArmKind } from './variants.ts';
import { optimizeArmKind } from './optimize.ts';
import { finetuneArmSchema, finetunePromptArmSchema } from './finetune-schema.ts';
import { distillArmSchema } from './distill-schema.ts';
import { externalArmSchema } from './external-schema.ts';
import { majorityArmKind, classicalArmKind } from './baseline.ts';
import { repeatArmKind } from './repeat.ts';

export const BUILTIN_ARM_KINDS: readonly ArmKind[] = [
  promptArmKind,
  fewshotArmKind,
  variantsArmKind,
  optimizeArmKind,
  lazyArmKind('finetune', finetuneArmSchema, () => import('./finetune.ts')),
  lazyArmKind('finetune+prompt', finetunePromptArmSchema, () => import('./finetune.ts')),
  lazyArmKind('distill', distillArmSchema, () => import('./distill.ts')),
  lazyArmKind('external', externalArmSchema, () => import('./external.ts')),
  majorityArmKind,
  classicalArmKind,
  repeatArmKind,
];
for (const k of BUILTIN_ARM_KINDS) registerArmKind(k);

export {
  registerArmKind,
  lazyArmKind,
  armKind,
  armKinds,
  loadArmKinds,
  type ArmKind,
  type ArmCreateOptions,
  type ArmFactory,
} from './registry.ts';
