/** Execution of graphs through cached onnxruntime-node sessions. */
import { availableParallelism } from 'node:os';
import * as ort from 'onnxruntime-node';
import type { DType, Graph, Value } from './graph.ts';
import { emitOnnx } from './onnx.ts';
import { envNumber } from '../core/index.ts';

// Offline means offline: onnxruntime's telemetry (DNS lookups of its event collector, device ids) is off for
// every session. The native library reads this variable when its environment is created at the first session.
process.env.ORT_DISABLE_TELEMETRY = '1';

export type HostArray = Float32Array | Float64Array | BigInt64Array | Uint8Array;

export interface RuntimeSettings {
  /** intra-op threads per session (default: TUNELAB_THREADS, else all cores) */
  threads: number;
  /** let onnxruntime's pool spin between ops (default false: spinning threads fight for shared or busy cores) */
  spinning: boolean;
  /** sessions kept in the cache before the least recently used is released */
  maxSessions: number;
  /**
   * onnxruntime's CPU memory arena and memory patterns (default false). With them every cached session keeps its
   * peak activations reserved: a full fine-tune of the built-in model peaked at 1.9 GB with them, 0.48 GB without,
   * and took less CPU time without (no page touching of fresh arenas).
   */
  arena: boolean;
}

const settings: RuntimeSettings = {
  threads: Math.max(1, Math.floor(envNumber('TUNELAB_THREADS', availableParallelism()))),
  spinning: false,
  maxSessions: 64,
  arena: false,
};

/** Change runtime settings (threads, spinning, cache size). Sessions already built keep their threads. */
export function configureRuntime(s: Partial<RuntimeSettings>): RuntimeSettings {
  if (s.threads !== undefined) {
    if (!Number.isInteger(s.threads) || s.threads < 1) throw new Error('threads must be a positive integer');
    if (s.threads !== settings.threads) clearSessionCache();
  }
  if (s.spinning !== undefined && s.spinning !== settings.spinning) clearSessionCache();
  if (s.arena !== undefined && s.arena !== settings.arena) clearSessionCache();
  Object.assign(settings, s);
  return { ...settings };
}
export function runtimeSettings(): RuntimeSettings {
  return { ...settings };
}

const ORT_TYPE: Record<DType, ort.Tensor.Type> = { float32: 'float32', float64: 'float64', int64: 'int64', bool: 'bool' };

/** A graph compiled to an onnxruntime session. */
export class Compiled {
  readonly inputShapes = new Map<string, { shape: number[]; dtype: DType }>();
  readonly outputNames: string[];
  constructor(
    readonly session: ort.InferenceSession,
    g: Graph,
  ) {
    for (const v of g.inputs) this.inputShapes.set(v.name, { shape: v.shape, dtype: v.dtype });
    this.outputNames = g.outputs.map((o) => o.name);
  }

  private inFlight = 0;
  private releasing = false;
  /** set for cached sessions: recompiles through the cache when a caller still holds an evicted session */
  rebuild?: () => Promise<Compiled>;

  /** Release the session once no run is in flight (safe to call while runs are pending). */
  async release(): Promise<void> {
    this.releasing = true;
    if (this.inFlight === 0) await this.session.release();
  }

  /** Run with host arrays fed in place; returns host arrays of the outputs (fresh buffers). */
  async run(feeds: Record<string, HostArray>, fetch?: string[]): Promise<Record<string, HostArray>> {
    if (this.releasing && this.inFlight === 0) {
      if (this.rebuild) return (await this.rebuild()).run(feeds, fetch);
      throw new Error('session was released');
    }
    this.inFlight++;
    try {
      return await this.runInner(feeds, fetch);
    } finally {
      this.inFlight--;
      if (this.releasing && this.inFlight === 0) void this.session.release().catch(() => {});
    }
  }

  private async runInner(feeds: Record<string, HostArray>, fetch?: string[]): Promise<Record<string, HostArray>> {
    const ortFeeds: Record<string, ort.Tensor> = {};
    for (const [name, info] of this.inputShapes) {
      const data = feeds[name];
      if (!data) throw new Error(`missing feed ${name}`);
      const want = info.shape.reduce((a, b) => a * b, 1);
      if (data.length !== want) throw new Error(`feed ${name}: ${data.length} elements, want ${want} [${info.shape}]`);
      ortFeeds[name] = new ort.Tensor(ORT_TYPE[info.dtype], data as any, info.shape);
    }
    const res = await this.session.run(ortFeeds, fetch ?? this.outputNames);
    const out: Record<string, HostArray> = {};
    for (const k of Object.keys(res)) out[k] = res[k].data as HostArray;
    return out;
  }
}

const cache = new Map<string, Promise<Compiled>>();
const groupOf = new Map<string, string>();
const counts = { compiled: 0, evicted: 0 };

/** Sessions kept per group before the least recently used of that group is released (training graphs hold big arenas). */
export const GROUP_LIMITS: Record<string, number> = { train: 12, eval: 12, decode: 32 };

function evict(key: string) {
  counts.evicted++;
  const old = cache.get(key);
  cache.delete(key);
  groupOf.delete(key);
  old?.then((c) => c.release()).catch(() => {});
}

function sessionOptions(): ort.InferenceSession.SessionOptions {
  return {
    intraOpNumThreads: settings.threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
    enableCpuMemArena: settings.arena,
    enableMemPattern: settings.arena,
    extra: { session: { intra_op: { allow_spinning: settings.spinning ? '1' : '0' } } },
  };
}

/** Compile a graph (no caching). */
export async function compileGraph(g: Graph): Promise<Compiled> {
  const bytes = emitOnnx(g);
  const session = await ort.InferenceSession.create(bytes, sessionOptions());
  return new Compiled(session, g);
}

/**
 * Compile through a cache keyed by `key`; `build` is called only on a miss. A `group` (see GROUP_LIMITS)
 * bounds how many sessions of that kind stay alive; all groups together stay under settings.maxSessions.
 */
export function compileCached(key: string, build: () => Graph, group = 'default'): Promise<Compiled> {
  const hit = cache.get(key);
  if (hit) {
    cache.delete(key);
    cache.set(key, hit);
    return hit;
  }
  counts.compiled++;
  const p = compileGraph(build()).then((c) => {
    c.rebuild = () => compileCached(key, build, group);
    return c;
  });
  cache.set(key, p);
  groupOf.set(key, group);
  p.catch(() => {
    cache.delete(key);
    groupOf.delete(key);
  });
  const limit = GROUP_LIMITS[group];
  if (limit !== undefined) {
    const same = [...cache.keys()].filter((k) => groupOf.get(k) === group);
    for (let i = 0; i < same.length - limit; i++) evict(same[i]);
  }
  while (cache.size > settings.maxSessions) evict(cache.keys().next().value as string);
  return p;
}

/** Padded length for n tokens: multiples of `base` up to 128, of 64 up to 512, then of 128 (few compiled shapes). */
export function bucketLength(n: number, base = 16): number {
  if (n <= 128) return Math.ceil(n / base) * base;
  if (n <= 512) return Math.ceil(n / 64) * 64;
  return Math.ceil(n / 128) * 128;
}

export function clearSessionCache(): void {
  for (const p of cache.values()) p.then((c) => c.release()).catch(() => {});
  cache.clear();
  groupOf.clear();
}

export function sessionCacheSize(): number {
  return cache.size;
}

/**
 * Sessions of this thread's cache: alive now (per group), compiled and evicted since start. Each thread (the training
 * worker too) has its own cache. Measured on the built-in model: a compiled session holds 2–10 MB; what a run
 * allocates (activations, gradients) goes back to the allocator when it ends, so the groups' bounds keep compiles
 * (~0.1–0.6 s of CPU each) low rather than memory.
 */
export function sessionStats(): { alive: number; byGroup: Record<string, number>; compiled: number; evicted: number } {
  const byGroup: Record<string, number> = {};
  for (const k of cache.keys()) {
    const g = groupOf.get(k) ?? 'default';
    byGroup[g] = (byGroup[g] ?? 0) + 1;
  }
  return { alive: cache.size, byGroup, ...counts };
}

/** Release every cached session of this thread (a session with a run in flight is released when that run ends). */
export async function releaseSessions(): Promise<void> {
  const all = [...cache.values()];
  cache.clear();
  groupOf.clear();
  await Promise.all(all.map((p) => p.then((c) => c.release()).catch(() => {})));
}

/** Convenience: compile once and run with the given feeds (for tests and one-off graphs). */
export async function runGraph(g: Graph, feeds: Record<string, HostArray>): Promise<Record<string, HostArray>> {
  const c = await compileGraph(g);
  try {
    return await c.run(feeds);
  } finally {
    await c.release();
  }
}

export type { Value };
