// Each arm kind registers itself on import. Add one line per arm module.
export { registerArmKind, armKind, armKinds, type ArmKind, type ArmCreateOptions } from './registry.ts';
import './prompt.ts';
import './fewshot.ts';
import './variants.ts';
import './optimize.ts';
import './finetune.ts';
