// The compute a local call costs, from a per-token model calibrated once on this machine, so that machine load does
// not change what a local arm costs.
//
// Why not the CPU time of each call: onnxruntime's intra-op pool waits for its workers by spinning
// (EndParallelSection spins on SpinPause whatever `allow_spinning` says), so when another process takes a core
// the calling thread burns CPU until the descheduled worker finishes its share; context switches and cache refills
// add the rest. Measured per call, a local arm's CPU time moved 0.8–1.5× between a quiet machine and one with both
// cores busy. The work itself does not move: it is the tokens the forward passes run over.
//
// The model: cpuMs = perCallMs + perTokenMs × (tokens run through full forward passes, padded as the generator pads
// them) + perStepMs × (decode steps with the KV cache). It is fitted on fixed synthetic calls, each measured a few
// times with the least CPU time kept (a run that was not interrupted), once per machine × model architecture ×
// runtime threads, and stored as JSON ($TUNELAB_COMPUTE_CACHE, else $XDG_CACHE_HOME/tunelab/compute.json, else
// ~/.cache/tunelab/compute.json). Later calls, under load or not, read it and never re-measure.
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { cpus, homedir, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { env as readEnv } from '../core/index.ts';

export interface ComputeModel {
  /** machine × architecture × threads this calibration is for */
  key: string;
  perCallMs: number;
  perTokenMs: number;
  perStepMs: number;
  calibratedAt: string;
  /** 1-minute load average when it was calibrated (a calibration on a busy machine reads high) */
  loadAvg: number;
  /** the measured points it was fitted on: full-forward tokens, decode steps, least CPU ms of the repeats */
  points: { tokens: number; steps: number; cpuMs: number }[];
}

/** What one local call ran: tokens through full forward passes (padded) and KV-cache decode steps. */
export interface ComputeShape {
  tokens: number;
  steps: number;
}

export const computeMsOf = (m: ComputeModel, s: ComputeShape): number => m.perCallMs + m.perTokenMs * s.tokens + m.perStepMs * s.steps;

/** The generator pads full-forward sequences to a multiple of this (Generator's default padMultiple). */
export const PAD_MULTIPLE = 16;
export const padded = (n: number): number => Math.ceil(n / PAD_MULTIPLE) * PAD_MULTIPLE;

/** Shape of a candidate-scoring call: one full forward of prompt + candidate per candidate, padded to the longest. */
export function scoringShape(promptTokens: number, candidateTokens: readonly number[]): ComputeShape {
  const longest = Math.max(0, ...candidateTokens);
  return { tokens: candidateTokens.length * padded(promptTokens + longest), steps: 0 };
}

/** Shape of a generation: the prompt's full forward (prefill), then one decode step per further token. */
export function generationShape(promptTokens: number, generated: number): ComputeShape {
  return { tokens: padded(promptTokens), steps: Math.max(0, generated - 1) };
}

export function computeCachePath(): string {
  const explicit = readEnv('TUNELAB_COMPUTE_CACHE');
  if (explicit) return explicit;
  const base = readEnv('XDG_CACHE_HOME') ?? join(readEnv('HOME') ?? homedir(), '.cache');
  return join(base, 'tunelab', 'compute.json');
}

/** The calibration key: CPU model and count, the architecture's shape, onnxruntime's intra-op threads. */
export function computeKey(arch: Record<string, unknown>, threads: number): string {
  const c = cpus();
  const shape = ['hidden_size', 'intermediate_size', 'num_hidden_layers', 'num_attention_heads', 'num_key_value_heads', 'vocab_size', 'head_dim']
    .map((k) => `${k}=${String(arch[k] ?? '')}`)
    .join(',');
  return `v1|${c[0]?.model ?? 'cpu'}×${c.length}|threads=${threads}|${shape}`;
}

function readCache(path: string): Record<string, ComputeModel> {
  try {
    const j = JSON.parse(readFileSync(path, 'utf8')) as unknown;
    return j && typeof j === 'object' && !Array.isArray(j) ? (j as Record<string, ComputeModel>) : {};
  } catch {
    return {};
  }
}

const valid = (m: ComputeModel | undefined): m is ComputeModel =>
  !!m && [m.perCallMs, m.perTokenMs, m.perStepMs].every((x) => typeof x === 'number' && Number.isFinite(x) && x >= 0) && m.perTokenMs > 0;

/** A stored calibration for `key`, if there is one. */
export function storedComputeModel(key: string, path = computeCachePath()): ComputeModel | undefined {
  const m = readCache(path)[key];
  return valid(m) ? m : undefined;
}

function store(m: ComputeModel, path: string): void {
  try {
    mkdirSync(dirname(path), { recursive: true });
    const all = readCache(path);
    all[m.key] = m;
    const tmp = `${path}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(all, null, 2) + '\n');
    renameSync(tmp, path);
  } catch {
    // a read-only home: the calibration still holds for this process
  }
}

/** Runs one synthetic call of the given kind and length; resolves when done. */
export type CalibrationProbe = (kind: 'score' | 'generate', promptTokens: number) => Promise<ComputeShape>;

const cpuNow = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

/**
 * Fit the model on synthetic calls: scoring at three prompt lengths (per-call and per-token cost), generation at the
 * same lengths (per-step cost). Each is run once to build its sessions, then `repeats` times; the least CPU time is kept.
 */
export async function calibrateCompute(key: string, probe: CalibrationProbe, opts: { maxPrompt: number; repeats?: number }): Promise<ComputeModel> {
  const repeats = opts.repeats ?? 8;
  const lengths = [24, 96, 200].map((n) => Math.max(8, Math.min(n, opts.maxPrompt)));
  const load = loadavg()[0];
  const measure = async (kind: 'score' | 'generate', n: number) => {
    await probe(kind, n); // compile and warm
    let best = Infinity;
    let shape: ComputeShape = { tokens: 0, steps: 0 };
    for (let r = 0; r < repeats; r++) {
      const c0 = cpuNow();
      shape = await probe(kind, n);
      best = Math.min(best, cpuNow() - c0);
    }
    return { ...shape, cpuMs: best };
  };
  const score: ComputeModel['points'] = [];
  for (const n of lengths) score.push(await measure('score', n));
  const gen: ComputeModel['points'] = [];
  for (const n of lengths) gen.push(await measure('generate', n));
  // per-call + per-token: least squares over the scoring points; kept non-negative
  const mx = score.reduce((s, p) => s + p.tokens, 0) / score.length;
  const my = score.reduce((s, p) => s + p.cpuMs, 0) / score.length;
  const sxx = score.reduce((s, p) => s + (p.tokens - mx) ** 2, 0);
  let perTokenMs = sxx > 0 ? score.reduce((s, p) => s + (p.tokens - mx) * (p.cpuMs - my), 0) / sxx : my / Math.max(mx, 1);
  let perCallMs = my - perTokenMs * mx;
  if (!(perTokenMs > 0) || perCallMs < 0) {
    perCallMs = 0;
    perTokenMs = score.reduce((s, p) => s + p.cpuMs, 0) / Math.max(1, score.reduce((s, p) => s + p.tokens, 0));
  }
  // per decode step: what generation costs beyond its prefill, per step (median over the lengths)
  const steps = gen
    .filter((p) => p.steps > 0)
    .map((p) => Math.max(0, (p.cpuMs - perCallMs - perTokenMs * p.tokens) / p.steps))
    .sort((a, b) => a - b);
  const perStepMs = steps.length ? steps[Math.floor(steps.length / 2)] : perTokenMs;
  return { key, perCallMs, perTokenMs, perStepMs, calibratedAt: new Date().toISOString(), loadAvg: load, points: [...score, ...gen] };
}

const inProcess = new Map<string, Promise<ComputeModel>>();

/**
 * The compute model for `key`: this process's, else the stored one, else calibrated now with `probe` and stored.
 * Callers run it inside their one-at-a-time engine queue (the probe uses the engine).
 */
export function computeModelFor(key: string, probe: CalibrationProbe, opts: { maxPrompt: number }): Promise<ComputeModel> {
  const path = computeCachePath();
  let p = inProcess.get(`${path}|${key}`);
  if (!p) {
    const stored = storedComputeModel(key, path);
    p = stored
      ? Promise.resolve(stored)
      : calibrateCompute(key, probe, opts).then((m) => {
          store(m, path);
          return m;
        });
    inProcess.set(`${path}|${key}`, p);
    p.catch(() => inProcess.delete(`${path}|${key}`));
  }
  return p;
}

/** Forget this process's calibrations (tests; after TUNELAB_COMPUTE_CACHE changes). */
export function resetComputeModels(): void {
  inProcess.clear();
}
