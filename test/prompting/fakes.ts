// In-process fakes for prompting tests: a scripted ChatModel, an exact-match scorer, a toy task.
import type { ArmContext } from '../../src/experiment/types.ts';
import type { ChatModel, ChatRequest, ChatResponse } from '../../src/models/types.ts';
import type { Scorer } from '../../src/metrics/types.ts';
import type { Example } from '../../src/task/types.ts';

export function fakeModel(
  id: string,
  respond: (req: ChatRequest) => string,
  extra: Partial<ChatModel> = {},
): ChatModel & { calls: ChatRequest[] } {
  const calls: ChatRequest[] = [];
  return {
    id,
    calls,
    async complete(req: ChatRequest): Promise<ChatResponse> {
      calls.push(req);
      const text = respond(req);
      const chars = req.messages.reduce((s, m) => s + m.content.length, 0);
      return { text, usage: { input: Math.ceil(chars / 4), output: Math.ceil(text.length / 4) }, latencyMs: 1, costUsd: 0.000001 * chars };
    },
    ...extra,
  };
}

export const exactScorer: Scorer = {
  name: 'exact',
  score(output: string, e: Example) {
    const pass = output.trim().toLowerCase() === e.expected.toLowerCase();
    return { score: pass ? 1 : 0, pass, extracted: output.trim() };
  },
};

export function lastUser(req: ChatRequest): string {
  const u = req.messages.filter((m) => m.role === 'user');
  return u[u.length - 1]?.content ?? '';
}

const SPAMMY = ['prize', 'winner', 'cash', 'offer', 'free', 'urgent', 'lottery', 'bonus'];
const HAMMY = ['meeting', 'report', 'lunch', 'project', 'schedule', 'invoice', 'notes', 'review'];

/** A toy spam task: spam texts use spammy words, ham texts hammy words; seeded and deterministic. */
export function toyTask(n = 60, prefix = 'ex'): Example[] {
  const out: Example[] = [];
  for (let i = 0; i < n; i++) {
    const spam = i % 2 === 0;
    const w = spam ? SPAMMY : HAMMY;
    const a = w[(i * 7) % w.length],
      b = w[(i * 3 + 1) % w.length];
    out.push({ id: `${prefix}${i}`, input: { text: `Message ${i}: about the ${a} and the ${b} today` }, expected: spam ? 'spam' : 'ham' });
  }
  return out;
}

export function ctxFor(
  models: Record<string, ChatModel>,
  train: Example[],
  dev: Example[],
  over: Partial<ArmContext> = {},
): ArmContext & { logs: string[] } {
  const logs: string[] = [];
  return {
    data: { train, dev },
    scorer: exactScorer,
    model: (id: string) => {
      const m = models[id];
      if (!m) throw new Error(`unknown model ${id}`);
      return m;
    },
    seed: 7,
    workDir: over.workDir ?? '/tmp',
    inputFields: ['text'],
    labels: ['spam', 'ham'],
    log: (m: string) => logs.push(m),
    logs,
    ...over,
  };
}
