export { type OptimizeContext, type OptimizeResult, evaluatorFor } from './common.ts';
export { type BootstrapOptions, type Bootstrapped, bootstrapFewShot, bootstrapDemos, demoSets } from './bootstrap.ts';
export { type InstructionOptions, proposeInstructions, proposerMessages, parseProposals, PROPOSER_SYSTEM } from './instructions.ts';
export { type MiproOptions, mipro } from './mipro.ts';
