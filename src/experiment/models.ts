// Models for a run: createModel per (arm, model id), bound to the store's response cache and call log,
// plus the pre-flight checks that turn a bad model config or an unreachable endpoint into bad input
// before anything is written.
import { connect } from 'node:net';
import {
  batchLayers,
  createModel,
  wrapModel,
  type BatchDeps,
  type CallRecord,
  type ModelConfig,
  type ResponseCache,
  type TunelabModel,
} from '../models/index.ts';
import type { ChatModel, ChatRequest, CompleteOptions, OnDelta } from '../models/types.ts';
import { InputError } from '../task/index.ts';
import type { ExperimentConfig, ArmConfig } from './config.ts';

export interface ModelFactory {
  forArm(runId: string, arm: string, opts: { cache: boolean }): { model(id: string, options?: { like?: string }): ChatModel };
}

export interface ModelDeps {
  cache?: ResponseCache;
  /** every attempt and cache hit, with the run and arm it belongs to */
  onCall?: (c: CallRecord, runId: string, arm: string) => void;
  env?: NodeJS.ProcessEnv;
  /** batch mode: where submitted batches are remembered, `--batch`, progress lines */
  batch?: Pick<BatchDeps, 'stateFile' | 'all' | 'log'>;
}

/** A config for an id: a models[] entry, or a `local:<path>` reference (with the settings of the `like` entry). */
export function modelConfigFor(config: ExperimentConfig, id: string, where = 'models', like?: string): ModelConfig {
  const m = config.models.find((x) => x.id === id);
  if (m) return m;
  if (id.startsWith('local:')) {
    const {
      id: _id,
      model: _model,
      path: _path,
      batch: _batch,
      ...settings
    } = (like ? config.models.find((x) => x.id === like) : undefined) ?? ({} as Partial<ModelConfig>);
    return { ...settings, id, provider: 'local', path: id.slice('local:'.length) } as ModelConfig;
  }
  // a model an arm made at a hosted provider (a fine-tuned model) answers at its base model's endpoint, with its settings
  const base = like ? config.models.find((x) => x.id === like) : undefined;
  if (base && base.provider !== 'local') return { ...base, id, model: id };
  throw new InputError(where, `unknown model '${id}' (models: ${config.models.map((x) => x.id).join(', ')})`);
}

export function modelFactory(config: ExperimentConfig, deps: ModelDeps = {}): ModelFactory {
  return {
    forArm(runId, arm, opts) {
      const made = new Map<string, ChatModel>();
      return {
        model(id: string, options?: { like?: string }) {
          const key = options?.like ? `${id}|${options.like}` : id;
          let m = made.get(key);
          if (!m) {
            const idx = config.models.findIndex((x) => x.id === id);
            const mcfg = modelConfigFor(config, id, `arms[${arm}].model`, options?.like);
            const where = idx >= 0 ? `models[${idx}]` : `model ${id}`;
            const base = createModel(mcfg, {
              cache: deps.cache,
              noCache: !opts.cache,
              env: deps.env,
              onCall: deps.onCall ? (c) => deps.onCall!(c, runId, arm) : undefined,
              where,
              layers: batchLayers(mcfg, { ...deps.batch, env: deps.env, where }),
            });
            m = withMeta(base, { run: runId, arm });
            made.set(key, m);
          }
          return m;
        },
      };
    },
  };
}

/** Adds the run and arm to every call's meta (the call log uses it). */
function withMeta(m: TunelabModel, meta: Record<string, unknown>): ChatModel {
  const withIds = (o?: CompleteOptions): CompleteOptions => ({ ...(o ?? {}), meta: { ...meta, ...(o?.meta ?? {}) } });
  return wrapModel(m, {
    complete: (req: ChatRequest, o?: CompleteOptions) => m.complete(req, withIds(o)),
    ...(m.stream ? { stream: (req: ChatRequest, onDelta: OnDelta, o?: CompleteOptions) => m.stream!(req, onDelta, withIds(o)) } : {}),
  });
}

/** Model ids an arm config refers to: `model` and any other string (or list of strings) naming a models[] id. */
export function modelsOfArm(config: ExperimentConfig, arm: ArmConfig): string[] {
  const ids = new Set(config.models.map((m) => m.id));
  const out = new Set<string>();
  const visit = (v: unknown, key?: string) => {
    if (typeof v === 'string') {
      if (ids.has(v) || (key && /model$/i.test(key) && v.startsWith('local:'))) out.add(v);
    } else if (Array.isArray(v)) v.forEach((x) => visit(x, key));
    else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) if (k !== 'name') visit(x, k);
  };
  for (const [k, v] of Object.entries(arm)) if (k !== 'name' && k !== 'kind') visit(v, k);
  return [...out];
}

/**
 * Builds every model the selected arms use (bad provider, missing key variable → ModelConfigError) and
 * checks each HTTP endpoint accepts a TCP connection (refused, unresolvable → InputError naming
 * models[i].baseURL). Makes no request, so it costs nothing and counts no call.
 */
export async function preflightModels(
  config: ExperimentConfig,
  arms: ArmConfig[],
  opts: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<void> {
  const used = new Set<string>();
  for (const a of arms) for (const id of modelsOfArm(config, a)) used.add(id);
  const checks: Promise<void>[] = [];
  const seen = new Set<string>();
  for (const id of used) {
    const idx = config.models.findIndex((x) => x.id === id);
    const where = idx >= 0 ? `models[${idx}]` : `model ${id}`;
    const mcfg = modelConfigFor(config, id);
    const m = createModel(mcfg, { env: opts.env, where });
    batchLayers(mcfg, { env: opts.env, where }); // `batch:` on a provider without a batch API is bad input
    const endpoint = m.info.endpoint;
    if (!endpoint || !/^https?:\/\//i.test(endpoint) || seen.has(endpoint)) continue;
    seen.add(endpoint);
    const key = idx >= 0 && config.models[idx].baseURL ? `${where}.baseURL` : where;
    checks.push(checkReachable(endpoint, key, opts.timeoutMs ?? 5000));
  }
  await Promise.all(checks);
}

const UNREACHABLE = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EADDRNOTAVAIL',
  'ETIMEDOUT',
  'ECONNRESET',
]);

export function checkReachable(url: string, where: string, timeoutMs: number): Promise<void> {
  const u = new URL(url);
  const port = Number(u.port || (u.protocol === 'https:' ? 443 : 80));
  const host = u.hostname.replace(/^\[|\]$/g, '');
  return new Promise((resolve, reject) => {
    const sock = connect({ host, port });
    const done = (err?: Error) => {
      clearTimeout(timer);
      sock.destroy();
      if (err) reject(err);
      else resolve();
    };
    const timer = setTimeout(() => done(new InputError(where, `cannot reach ${u.origin} (no answer within ${timeoutMs} ms)`)), timeoutMs);
    sock.once('connect', () => done());
    sock.once('error', (e: NodeJS.ErrnoException) => {
      const code = e.code ?? 'error';
      const why = UNREACHABLE.has(code) ? code : `${code}: ${e.message}`;
      done(new InputError(where, `cannot reach ${u.origin} (${why}): is the server running and the base URL right?`));
    });
  });
}
