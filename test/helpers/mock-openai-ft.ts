/**
 * A local server following OpenAI's documented fine-tuning API (base URL `<url>/v1`):
 *   POST /v1/files                        multipart: purpose=fine-tune, file (JSONL) → File object
 *   POST /v1/fine_tuning/jobs             {model, training_file, validation_file?, method: {type: supervised|dpo, ...}, suffix?, seed?}
 *   GET  /v1/fine_tuning/jobs/{id}        each GET moves the job one state on:
 *                                         validating_files → queued → running → running → succeeded (or failed)
 *   GET  /v1/fine_tuning/jobs/{id}/events newest first, {object: list, data: [fine_tuning.job.event]}
 *   GET  /v1/fine_tuning/jobs/{id}/checkpoints
 *   POST /v1/fine_tuning/jobs/{id}/cancel
 *   POST /v1/chat/completions             answers for any model (the tuned one included)
 * `fail: {code, message}` makes every job end `failed` with that error. Bodies and headers are logged.
 */
import { startBase, type BaseServer } from './mock-openai-ft-base.ts';

export interface OpenAIFtServer extends BaseServer {
  baseURL: string;
  jobs: Map<string, any>;
  files: Map<string, { purpose: string; filename: string; text: string }>;
  /** status sequence the jobs walk through, one step per GET */
  sequence: string[];
}

const errorBody = (status: number, message: string) => ({
  error: { message, type: status === 429 ? 'rate_limit_exceeded' : 'invalid_request_error', param: null, code: null },
});

export async function startMockOpenAIFt(
  opts: { apiKey?: string; fail?: { code: string; message: string }; sequence?: string[] } = {},
): Promise<OpenAIFtServer> {
  const files = new Map<string, { purpose: string; filename: string; text: string }>();
  const jobs = new Map<string, any>();
  const sequence = opts.sequence ?? ['validating_files', 'queued', 'running', 'running', opts.fail ? 'failed' : 'succeeded'];
  const now = () => Math.floor(Date.now() / 1000);
  const event = (job: any, message: string, data: Record<string, number> | null = null, level = 'info') =>
    job.events.push({
      object: 'fine_tuning.job.event',
      id: `ftevent-${job.events.length + 1}`,
      created_at: now(),
      level,
      message,
      data,
      type: data ? 'metrics' : 'message',
    });
  const view = (j: any) => {
    const { events: _e, step: _s, _polled: _p, ...rest } = j;
    return rest;
  };
  const base = await startBase({
    apiKey: opts.apiKey ?? 'sk-test-openai',
    chatPrefix: '/v1',
    errorBody,
    routes: (req, send) => {
      const seg = req.path.split('/').filter(Boolean); // v1, ...
      if (req.method === 'POST' && req.path === '/v1/files') {
        const purpose = req.body?.fields?.purpose;
        if (!req.body?.file || !purpose) {
          send(400, errorBody(400, "missing 'file' or 'purpose'"));
          return true;
        }
        const id = `file-${files.size + 1}`;
        files.set(id, { purpose, filename: req.body.file.name, text: req.body.file.text });
        send(200, {
          id,
          object: 'file',
          bytes: Buffer.byteLength(req.body.file.text),
          created_at: now(),
          filename: req.body.file.name,
          purpose,
          status: 'processed',
        });
        return true;
      }
      if (seg[1] !== 'fine_tuning' || seg[2] !== 'jobs') return false;
      if (req.method === 'POST' && seg.length === 3) {
        const b = req.body ?? {};
        if (typeof b.model !== 'string') {
          send(400, errorBody(400, 'you must provide a model parameter'));
          return true;
        }
        const f = files.get(b.training_file);
        if (!f || f.purpose !== 'fine-tune') {
          send(400, errorBody(400, `invalid training_file: ${b.training_file}`));
          return true;
        }
        const type = b.method?.type ?? 'supervised';
        const hp = b.method?.[type]?.hyperparameters ?? {};
        const epochs = typeof hp.n_epochs === 'number' ? hp.n_epochs : 3;
        const tokens =
          f.text
            .split('\n')
            .filter(Boolean)
            .reduce((n, l) => n + Math.ceil(l.length / 4), 0) * epochs;
        const id = `ftjob-${jobs.size + 1}`;
        const job = {
          object: 'fine_tuning.job',
          id,
          model: b.model,
          created_at: now(),
          finished_at: null,
          fine_tuned_model: null,
          organization_id: 'org-mock',
          result_files: [],
          status: sequence[0],
          validation_file: b.validation_file ?? null,
          training_file: b.training_file,
          hyperparameters: {
            n_epochs: epochs,
            batch_size: hp.batch_size ?? 'auto',
            learning_rate_multiplier: hp.learning_rate_multiplier ?? 'auto',
          },
          method: b.method ?? { type: 'supervised' },
          trained_tokens: null,
          error: null,
          seed: b.seed ?? 0,
          suffix: b.suffix ?? null,
          events: [] as any[],
          step: 0,
          _tokens: tokens,
        };
        event(job, `Validating training file: ${b.training_file}`);
        jobs.set(id, job);
        send(200, view(job));
        return true;
      }
      const job = jobs.get(seg[3]);
      if (!job) {
        send(404, errorBody(404, `Could not find fine-tuning job ${seg[3]}`));
        return true;
      }
      const { _tokens, ...pub } = view(job);
      if (req.method === 'GET' && seg.length === 4) {
        if (!job._polled) job._polled = true;
        else if (!['succeeded', 'failed', 'cancelled'].includes(job.status)) {
          job.step = Math.min(job.step + 1, sequence.length - 1);
          job.status = sequence[job.step];
          if (job.status === 'running')
            event(job, `Step ${job.step}/2: training loss=${(1 / job.step).toFixed(3)}`, {
              step: job.step,
              total_steps: 2,
              train_loss: 1 / job.step,
            });
          if (job.status === 'succeeded') {
            job.fine_tuned_model = `ft:${job.model}:org-mock:${job.suffix ?? ''}:${job.id}`;
            job.trained_tokens = job._tokens;
            job.finished_at = now();
            event(job, `New fine-tuned model created: ${job.fine_tuned_model}`);
            event(job, 'The job has successfully completed');
          }
          if (job.status === 'failed') {
            job.error = { code: opts.fail?.code ?? 'error', message: opts.fail?.message ?? 'failed', param: null };
            job.finished_at = now();
            event(job, job.error.message, null, 'error');
          }
        }
        const { _tokens: _t, ...fresh } = view(job);
        send(200, fresh);
        return true;
      }
      if (req.method === 'GET' && seg[4] === 'events') {
        send(200, { object: 'list', data: [...job.events].reverse(), has_more: false });
        return true;
      }
      if (req.method === 'GET' && seg[4] === 'checkpoints') {
        const data = job.fine_tuned_model
          ? [
              {
                object: 'fine_tuning.job.checkpoint',
                id: 'ftckpt-1',
                fine_tuned_model_checkpoint: `${job.fine_tuned_model}:ckpt-step-2`,
                step_number: 2,
                metrics: { step: 2, train_loss: 0.5 },
                fine_tuning_job_id: job.id,
                created_at: now(),
              },
            ]
          : [];
        send(200, { object: 'list', data, has_more: false });
        return true;
      }
      if (req.method === 'POST' && seg[4] === 'cancel') {
        job.status = 'cancelled';
        job.finished_at = now();
        event(job, 'Fine-tuning job cancelled');
        send(200, pub);
        return true;
      }
      return false;
    },
  });
  return Object.assign(base, { baseURL: `${base.url}/v1`, jobs, files, sequence });
}
