// The hosted backends by name, and the environment variable each reads its key from by default.
import { OpenAIFineTuneBackend } from './openai.ts';
import { TogetherFineTuneBackend } from './together.ts';
import { FireworksFineTuneBackend } from './fireworks.ts';
import type { HostedBackend, HostedBackendOptions } from './types.ts';

export const HOSTED_BACKENDS = ['openai', 'together', 'fireworks'] as const;
export type HostedBackendName = (typeof HOSTED_BACKENDS)[number];

/** Default env variable holding each provider's key. */
export const HOSTED_KEY_ENV: Record<HostedBackendName, string> = {
  openai: 'OPENAI_API_KEY',
  together: 'TOGETHER_API_KEY',
  fireworks: 'FIREWORKS_API_KEY',
};

export function createHostedBackend(name: HostedBackendName, o: HostedBackendOptions): HostedBackend {
  if (name === 'openai') return new OpenAIFineTuneBackend(o);
  if (name === 'together') return new TogetherFineTuneBackend(o);
  return new FireworksFineTuneBackend(o);
}
