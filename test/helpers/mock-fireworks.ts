/**
 * A local server following Fireworks AI's documented fine-tuning REST API (base URL `<url>/v1`):
 *   POST /v1/accounts/{a}/datasets                     {datasetId, dataset: {userUploaded: {}, exampleCount}} → Dataset (state UPLOADING)
 *   POST /v1/accounts/{a}/datasets/{id}:upload         multipart: file (JSONL)
 *   GET  /v1/accounts/{a}/datasets/{id}                state UPLOADING on the first GET after the upload, then READY
 *   POST /v1/accounts/{a}/supervisedFineTuningJobs?supervisedFineTuningJobId=..
 *                                                      {dataset, baseModel, outputModel, epochs, learningRate, loraRank, ...}
 *                                                      refused unless the dataset is READY
 *   GET  /v1/accounts/{a}/supervisedFineTuningJobs/{id} each GET moves the job one state on:
 *                                                      JOB_STATE_CREATING → JOB_STATE_VALIDATING → JOB_STATE_RUNNING →
 *                                                      JOB_STATE_WRITING_RESULTS → JOB_STATE_COMPLETED (or JOB_STATE_FAILED)
 *   POST /v1/accounts/{a}/supervisedFineTuningJobs/{id}:cancel
 *   POST /inference/v1/chat/completions               Fireworks' OpenAI-compatible inference (answers any model)
 */
import { startBase, type BaseServer } from './mock-openai-ft-base.ts';

export interface FireworksServer extends BaseServer {
  baseURL: string;
  inferenceURL: string;
  jobs: Map<string, any>;
  datasets: Map<string, any>;
}

const errorBody = (status: number, message: string) => ({ code: status === 429 ? 8 : 3, message, details: [] });

export async function startMockFireworks(opts: { apiKey?: string; account?: string; fail?: string } = {}): Promise<FireworksServer> {
  const account = opts.account ?? 'mock-acct';
  const datasets = new Map<string, any>();
  const jobs = new Map<string, any>();
  const sequence = [
    'JOB_STATE_CREATING',
    'JOB_STATE_VALIDATING',
    'JOB_STATE_RUNNING',
    'JOB_STATE_WRITING_RESULTS',
    opts.fail ? 'JOB_STATE_FAILED' : 'JOB_STATE_COMPLETED',
  ];
  const iso = () => new Date().toISOString();
  const view = (j: any) => {
    const { _step, _tokens, _polled, ...rest } = j;
    return rest;
  };
  const base = await startBase({
    apiKey: opts.apiKey ?? 'fw-test-key',
    chatPrefix: '/inference/v1',
    errorBody,
    routes: (req, send) => {
      const prefix = `/v1/accounts/${account}/`;
      if (!req.path.startsWith(prefix)) return false;
      const rest = req.path.slice(prefix.length);
      const [coll, idAction] = rest.split('/');
      const [id, action] = (idAction ?? '').split(':');
      if (coll === 'datasets') {
        if (req.method === 'POST' && !idAction) {
          const b = req.body ?? {};
          if (!b.datasetId || !b.dataset?.userUploaded) {
            send(400, errorBody(400, 'datasetId and dataset.userUploaded are required'));
            return true;
          }
          const d = {
            name: `accounts/${account}/datasets/${b.datasetId}`,
            state: 'UPLOADING',
            exampleCount: b.dataset.exampleCount,
            createTime: iso(),
            _gets: 0,
            text: '',
          };
          datasets.set(b.datasetId, d);
          send(200, { name: d.name, state: d.state, exampleCount: d.exampleCount, createTime: d.createTime });
          return true;
        }
        const d = datasets.get(id);
        if (!d) {
          send(404, errorBody(404, `dataset ${id} not found`));
          return true;
        }
        if (req.method === 'POST' && action === 'upload') {
          if (!req.body?.file) {
            send(400, errorBody(400, 'file is required'));
            return true;
          }
          d.text = req.body.file.text;
          d.uploaded = true;
          send(200, {});
          return true;
        }
        if (req.method === 'GET' && !action) {
          if (d.uploaded && ++d._gets >= 2) d.state = 'READY';
          send(200, {
            name: d.name,
            state: d.state,
            exampleCount: d.exampleCount,
            createTime: d.createTime,
            status: { code: 'OK', message: '' },
          });
          return true;
        }
        return false;
      }
      if (coll !== 'supervisedFineTuningJobs') return false;
      if (req.method === 'POST' && !idAction) {
        const b = req.body ?? {};
        const dsId = String(b.dataset ?? '')
          .split('/')
          .pop()!;
        const d = datasets.get(dsId);
        if (!d || d.state !== 'READY') {
          send(400, errorBody(400, `dataset ${b.dataset} is not READY`));
          return true;
        }
        if (typeof b.baseModel !== 'string' || !b.baseModel.startsWith('accounts/')) {
          send(400, errorBody(400, 'baseModel must be a model resource name'));
          return true;
        }
        const jobId = req.query.supervisedFineTuningJobId ?? `job${jobs.size + 1}`;
        const tokens =
          d.text
            .split('\n')
            .filter(Boolean)
            .reduce((n: number, l: string) => n + Math.ceil(l.length / 4), 0) * (b.epochs ?? 1);
        const job = {
          name: `accounts/${account}/supervisedFineTuningJobs/${jobId}`,
          displayName: b.displayName ?? '',
          createTime: iso(),
          dataset: b.dataset,
          state: sequence[0],
          status: { code: 'OK', message: '' },
          outputModel: b.outputModel ?? `accounts/${account}/models/${jobId}`,
          baseModel: b.baseModel,
          epochs: b.epochs,
          learningRate: b.learningRate,
          loraRank: b.loraRank,
          maxContextLength: b.maxContextLength,
          evaluationDataset: b.evaluationDataset,
          _step: 0,
          _tokens: tokens,
        };
        jobs.set(jobId, job);
        send(200, view(job));
        return true;
      }
      const job = jobs.get(id);
      if (!job) {
        send(404, errorBody(404, `job ${id} not found`));
        return true;
      }
      if (req.method === 'GET' && !action) {
        if (!job._polled) job._polled = true;
        else if (!['JOB_STATE_COMPLETED', 'JOB_STATE_FAILED', 'JOB_STATE_CANCELLED'].includes(job.state)) {
          job._step = Math.min(job._step + 1, sequence.length - 1);
          job.state = sequence[job._step];
          job.updateTime = iso();
          if (job.state === 'JOB_STATE_RUNNING') job.jobProgress = { percent: 50, epoch: 1 };
          if (job.state === 'JOB_STATE_COMPLETED') {
            job.completedTime = iso();
            job.jobProgress = { percent: 100, epoch: job.epochs, inputTokens: job._tokens, outputTokens: 0 };
            job.estimatedCost = { currencyCode: 'USD', units: '0', nanos: job._tokens * 500 };
          }
          if (job.state === 'JOB_STATE_FAILED') job.status = { code: 'INVALID_ARGUMENT', message: opts.fail };
        }
        send(200, view(job));
        return true;
      }
      if (req.method === 'POST' && action === 'cancel') {
        job.state = 'JOB_STATE_CANCELLED';
        send(200, {});
        return true;
      }
      return false;
    },
  });
  return Object.assign(base, { baseURL: `${base.url}/v1`, inferenceURL: `${base.url}/inference/v1`, jobs, datasets });
}
