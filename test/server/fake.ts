// A scripted FineTuneBackend and echo models for server tests (the real local backend has its own tests).
import type { FineTuneBackend, FineTuneJob, FineTuneOptions, JobState, TrainingRecord } from '../../src/finetune/types.ts';
import type { ChatModel, ChatRequest, ChatResponse } from '../../src/models/types.ts';
import { validateRecords } from '../../src/finetune/validate.ts';

export class ScriptedBackend implements FineTuneBackend {
  readonly name = 'scripted';
  jobs = new Map<
    string,
    { steps: number; step: number; cancelled: boolean; data: TrainingRecord[]; opts: FineTuneOptions; timer?: NodeJS.Timeout }
  >();
  constructor(
    public stepMs = 20,
    public steps = 5,
  ) {}
  async validate(data: TrainingRecord[]) {
    return validateRecords(data, { minRecords: 2 });
  }
  async estimate(data: TrainingRecord[]) {
    return { tokens: data.length * 10, steps: this.steps, costUsd: 0, seconds: 1 };
  }
  async start(data: TrainingRecord[], opts: FineTuneOptions): Promise<FineTuneJob> {
    const id = `s${this.jobs.size}`;
    const st = { steps: this.steps, step: 0, cancelled: false, data, opts, timer: undefined as NodeJS.Timeout | undefined };
    st.timer = setInterval(() => {
      if (st.step < st.steps) st.step++;
      else clearInterval(st.timer);
    }, this.stepMs);
    this.jobs.set(id, st);
    return { id, backend: this.name, options: opts, createdAt: Date.now() };
  }
  async poll(job: FineTuneJob): Promise<JobState> {
    const st = this.jobs.get(job.id);
    if (!st) return { status: 'failed', events: [], metrics: {}, error: 'unknown job' };
    const events = Array.from({ length: st.step }, (_, i) => ({
      at: Date.now(),
      level: 'info' as const,
      message: `Step ${i + 1}/${st.steps}: training loss=${(2 / (i + 1)).toFixed(3)}`,
      data: { step: i + 1, train_loss: 2 / (i + 1) },
    }));
    const status = st.cancelled ? 'cancelled' : st.step >= st.steps ? 'succeeded' : 'running';
    return {
      status,
      events,
      metrics: {
        step: st.step,
        totalSteps: st.steps,
        trainLoss: 2 / Math.max(1, st.step),
        etaSec: ((st.steps - st.step) * this.stepMs) / 1000,
      },
    };
  }
  async cancel(job: FineTuneJob) {
    const st = this.jobs.get(job.id);
    if (st) {
      st.cancelled = true;
      clearInterval(st.timer);
    }
  }
  async result(job: FineTuneJob) {
    const st = this.jobs.get(job.id)!;
    // the "fine-tuned model" answers with the first training answer
    return `fake:${encodeURIComponent(st.data[0].messages.at(-1)!.content)}`;
  }
}

export function echoModel(
  id: string,
  prefix = 'echo: ',
): ChatModel & { stream(r: ChatRequest, on: (t: string) => void): Promise<ChatResponse> } {
  const answer = (r: ChatRequest) => {
    const text = prefix + (r.messages.at(-1)?.content ?? '');
    return r.maxTokens ? text.split(' ').slice(0, r.maxTokens).join(' ') : text;
  };
  return {
    id,
    async complete(r) {
      const text = answer(r);
      return { text, usage: { input: r.messages.length * 3, output: text.split(' ').length }, latencyMs: 1, costUsd: 0 };
    },
    async stream(r, on) {
      const text = answer(r);
      const parts = text.split(/(?<= )/);
      for (const p of parts) {
        on(p);
        await new Promise((res) => setTimeout(res, 1));
      }
      return { text, usage: { input: r.messages.length * 3, output: parts.length }, latencyMs: 1, costUsd: 0 };
    },
  };
}

export function resolveFake(id: string): ChatModel {
  if (id.startsWith('fake:')) return echoModel(id, decodeURIComponent(id.slice(5)) + ' | ');
  return echoModel(id);
}
