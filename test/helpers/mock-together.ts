/**
 * A local server following Together AI's documented fine-tuning API (base URL `<url>/v1`):
 *   POST /v1/files/upload            multipart: purpose=fine-tune, file_name, file_type=jsonl, file → File object
 *   POST /v1/fine-tunes              {training_file, model, n_epochs, learning_rate, batch_size, training_type:
 *                                    {type: Lora, lora_r, lora_alpha, lora_dropout, lora_trainable_modules} | {type: Full},
 *                                    training_method: {method: sft|dpo}, validation_file?, suffix?}
 *   GET  /v1/fine-tunes/{id}         each GET moves the job one state on:
 *                                    pending → queued → running → compressing → uploading → completed (or error)
 *                                    completed jobs carry output_name, token_count and total_price (nanodollars)
 *   GET  /v1/fine-tunes/{id}/events  {data: [fine-tune-event]}
 *   POST /v1/fine-tunes/{id}/cancel  → cancel_requested, then cancelled on the next GET
 *   POST /v1/chat/completions        Together's OpenAI-compatible chat endpoint (answers any model)
 */
import { startBase, type BaseServer } from './mock-openai-ft-base.ts';

export interface TogetherServer extends BaseServer {
  baseURL: string;
  jobs: Map<string, any>;
  files: Map<string, { purpose: string; filename: string; text: string }>;
}

const errorBody = (status: number, message: string) => ({
  error: { message, type: status === 429 ? 'rate_limit' : 'invalid_request_error', code: status },
});

/** nanodollars per trained token the mock charges ($0.48 per 1M) */
export const TOGETHER_MOCK_NANO_PER_TOKEN = 480;

export async function startMockTogether(opts: { apiKey?: string; fail?: string } = {}): Promise<TogetherServer> {
  const files = new Map<string, { purpose: string; filename: string; text: string }>();
  const jobs = new Map<string, any>();
  const sequence = ['pending', 'queued', 'running', 'compressing', 'uploading', opts.fail ? 'error' : 'completed'];
  const iso = () => new Date().toISOString();
  const event = (job: any, type: string, message: string, level = 'Info', extra: Record<string, unknown> = {}) =>
    job.events.push({ object: 'fine-tune-event', created_at: iso(), level, message, type, ...extra });
  const view = (j: any) => {
    const { _step, _tokens, _polled, ...rest } = j;
    return rest;
  };
  const base = await startBase({
    apiKey: opts.apiKey ?? 'together-test-key',
    chatPrefix: '/v1',
    errorBody,
    routes: (req, send) => {
      if (req.method === 'POST' && req.path === '/v1/files/upload') {
        const f = req.body?.fields ?? {};
        if (!req.body?.file || f.purpose !== 'fine-tune' || !f.file_name) {
          send(400, errorBody(400, 'purpose, file_name and file are required'));
          return true;
        }
        const id = `file-${String(files.size + 1).padStart(8, '0')}-0000-4000-8000-000000000000`;
        files.set(id, { purpose: f.purpose, filename: f.file_name, text: req.body.file.text });
        send(200, {
          id,
          object: 'file',
          created_at: Math.floor(Date.now() / 1000),
          filename: f.file_name,
          bytes: Buffer.byteLength(req.body.file.text),
          purpose: 'fine-tune',
          Processed: true,
          FileType: f.file_type ?? 'jsonl',
          LineCount: req.body.file.text.split('\n').filter(Boolean).length,
        });
        return true;
      }
      const seg = req.path.split('/').filter(Boolean);
      if (seg[1] !== 'fine-tunes') return false;
      if (req.method === 'POST' && seg.length === 2) {
        const b = req.body ?? {};
        const f = files.get(b.training_file);
        if (!f) {
          send(400, errorBody(400, `training_file ${b.training_file} not found`));
          return true;
        }
        if (typeof b.model !== 'string') {
          send(400, errorBody(400, 'model is required'));
          return true;
        }
        const epochs = b.n_epochs ?? 1;
        const tokens =
          f.text
            .split('\n')
            .filter(Boolean)
            .reduce((n, l) => n + Math.ceil(l.length / 4), 0) * epochs;
        const id = `ft-${String(jobs.size + 1).padStart(8, '0')}-0000-4000-8000-000000000000`;
        const job = {
          id,
          status: 'pending',
          created_at: iso(),
          updated_at: iso(),
          model: b.model,
          training_file: b.training_file,
          validation_file: b.validation_file ?? '',
          n_epochs: epochs,
          n_checkpoints: b.n_checkpoints ?? 1,
          batch_size: b.batch_size ?? 'max',
          learning_rate: b.learning_rate,
          training_type: b.training_type ?? { type: 'Lora' },
          training_method: b.training_method ?? { method: 'sft' },
          suffix: b.suffix ?? null,
          output_name: null,
          token_count: 0,
          total_price: 0,
          events: [] as any[],
          _step: 0,
          _tokens: tokens,
        };
        event(job, 'job_pending', 'Fine tune request created');
        jobs.set(id, job);
        send(200, view(job));
        return true;
      }
      const job = jobs.get(seg[2]);
      if (!job) {
        send(404, errorBody(404, `fine-tune job ${seg[2]} not found`));
        return true;
      }
      if (req.method === 'GET' && seg.length === 3) {
        if (job.status === 'cancel_requested') {
          job.status = 'cancelled';
          event(job, 'job_stopped', 'Job cancelled');
        } else if (!job._polled) job._polled = true;
        else if (!['completed', 'error', 'cancelled', 'user_error'].includes(job.status)) {
          job._step = Math.min(job._step + 1, sequence.length - 1);
          job.status = sequence[job._step];
          if (job.status === 'running') event(job, 'training_start', 'Training started', 'Info', { step: 0, total_steps: 4 });
          if (job.status === 'completed') {
            job.output_name = `mock-account/${job.model.split('/').pop()}-${job.suffix ?? 'ft'}-${job.id.slice(3, 11)}`;
            job.token_count = job._tokens;
            job.total_price = job._tokens * TOGETHER_MOCK_NANO_PER_TOKEN;
            event(job, 'job_complete', `Job finished at ${iso()}`, 'Info', { step: 4, total_steps: 4 });
          }
          if (job.status === 'error') event(job, 'job_error', opts.fail!, 'Error');
        }
        job.updated_at = iso();
        send(200, view(job));
        return true;
      }
      if (req.method === 'GET' && seg[3] === 'events') {
        send(200, { object: 'list', data: job.events });
        return true;
      }
      if (req.method === 'POST' && seg[3] === 'cancel') {
        job.status = 'cancel_requested';
        event(job, 'cancel_requested', 'Cancel requested');
        send(200, view(job));
        return true;
      }
      return false;
    },
  });
  return Object.assign(base, { baseURL: `${base.url}/v1`, jobs, files });
}
