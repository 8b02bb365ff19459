// The ground floor: canonical JSON, hashing, the one seeded RNG, error classes and their exit codes,
// environment access, small concurrency helpers. Imports nothing from other tunelab modules.
export { canonicalJson, sortKeys } from './json.ts';
export { sha256Hex, hashOf } from './hash.ts';
export { Rng, createRng, deriveSeed } from './rng.ts';
export { EXIT, InputError, UsageError, AbortedError, exitCodeOf, isBadInput } from './errors.ts';
export { env, requireEnv, envNumber, envFlag, type EnvSource } from './env.ts';
export { mapLimit } from './concurrency.ts';
