// What `tunelab view` and the reports read from a store: runs with their progress, a run's report with
// per-example evidence, one example with the messages each arm sent, two runs compared, fine-tune arms.
// The store is opened read-only (WAL): a run that is writing it is never blocked.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { buildRunReport } from '../experiment/index.ts';
import { openStore, type Store } from '../store/index.ts';
import { buildEvidence, messagesOf, type EvidenceResult } from '../report/evidence.ts';
import type { ExampleEvidence, RunReport, SentMessage } from '../report/types.ts';

export interface ArmProgress {
  name: string;
  kind: string;
  status: string;
  done: number;
  total: number;
}
export interface RunSummary {
  id: string;
  experiment: string;
  status: string;
  createdAt: string;
  finishedAt?: string;
  test: number;
  done: number;
  total: number;
  arms: ArmProgress[];
}

type ConfigArm = { name?: unknown; [k: string]: unknown };

function configArms(config: unknown): Map<string, Record<string, unknown>> {
  const arms = (config as { arms?: unknown } | undefined)?.arms;
  const out = new Map<string, Record<string, unknown>>();
  if (Array.isArray(arms)) for (const a of arms as ConfigArm[]) if (a && typeof a.name === 'string') out.set(a.name, a);
  return out;
}

/** The messages `arm` sent for `exampleId`: the last successful call's request (else the last attempt). */
function requestIndex(store: Store, runId: string, arm: string): Map<string, unknown> {
  const m = new Map<string, unknown>();
  for (const c of store.listCalls(runId, arm)) {
    if (!c.exampleId) continue;
    if (!c.error || !m.has(c.exampleId)) m.set(c.exampleId, c.request);
  }
  return m;
}

/** A RunReport with its evidence (every example, each arm's prompt, loss curves). */
export function reportWithEvidence(store: Store, runId: string): RunReport {
  const report = buildRunReport(store, runId);
  const run = store.getRun(runId);
  const cfg = configArms(run?.meta.config);
  const armRecs = store.listArms(runId);
  const results = new Map<string, EvidenceResult[]>();
  for (const a of report.arms) results.set(a.name, store.results(runId, a.name));
  const requests = new Map<string, Map<string, unknown>>();
  const request = (arm: string, exampleId: string) => {
    let m = requests.get(arm);
    if (!m) requests.set(arm, (m = requestIndex(store, runId, arm)));
    return m.get(exampleId);
  };
  const meta = run?.meta as
    | {
        testIds?: string[];
        examples?: { id: string; input?: Record<string, unknown>; expected?: string; source?: { file: string; line: number } }[];
      }
    | undefined;
  report.evidence = buildEvidence({
    arms: report.arms.map((a) => ({
      name: a.name,
      kind: a.kind,
      artifact: armRecs.find((r) => r.name === a.name)?.artifact,
      config: cfg.get(a.name),
    })),
    testIds: meta?.testIds,
    examples: Array.isArray(meta?.examples) ? meta.examples : undefined,
    results,
    request,
  });
  return report;
}

export interface ExampleFilter {
  /** "arm:pass" / "arm:fail" */
  arm?: string;
  outcome?: 'pass' | 'fail';
  disagree?: boolean;
  expected?: string;
  q?: string;
}

export function filterExamples(examples: ExampleEvidence[], f: ExampleFilter): ExampleEvidence[] {
  const q = f.q?.trim().toLowerCase();
  return examples.filter((ex) => {
    if (f.disagree && !ex.disagree) return false;
    if (f.expected && ex.expected !== f.expected) return false;
    if (f.arm && f.outcome) {
      const o = ex.arms[f.arm];
      if (!o || o.pass !== (f.outcome === 'pass')) return false;
    }
    if (q) {
      const hay = [
        ex.id,
        ex.expected,
        typeof ex.input === 'string' ? ex.input : JSON.stringify(ex.input ?? ''),
        ...Object.values(ex.arms).map((o) => o.output),
      ]
        .join('\n')
        .toLowerCase();
      if (!hay.includes(q)) return false;
    }
    return true;
  });
}

/** CSV (RFC 4180) of examples: one row per example, per arm its answer, pass and score. */
export function examplesCsv(examples: ExampleEvidence[], arms: string[]): string {
  const cell = (v: unknown) => {
    const s = v === undefined || v === null ? '' : typeof v === 'string' ? v : JSON.stringify(v);
    return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  const head = [
    'id',
    'source',
    'input',
    'expected',
    'disagree',
    ...arms.flatMap((a) => [`${a}.output`, `${a}.answer`, `${a}.pass`, `${a}.score`, `${a}.latency_ms`]),
  ];
  const rows = examples.map((ex) => [
    ex.id,
    ex.source ? `${ex.source.file}:${ex.source.line}` : '',
    ex.input,
    ex.expected,
    ex.disagree,
    ...arms.flatMap((a) => {
      const o = ex.arms[a];
      return o
        ? [o.error ? `error: ${o.error}` : o.output, o.extracted ?? '', o.pass, o.score, Math.round(o.latencyMs)]
        : ['', '', '', '', ''];
    }),
  ]);
  return [head, ...rows].map((r) => r.map(cell).join(',')).join('\r\n') + '\r\n';
}

/** Runs and their live progress (results stored of the expected total). */
export function listRunSummaries(store: Store): RunSummary[] {
  return store.listRuns().map((r) => {
    const test = r.meta.sizes?.test ?? 0;
    const names = r.meta.arms?.length ? r.meta.arms : store.listArms(r.id).map((a) => a.name);
    const recs = new Map(store.listArms(r.id).map((a) => [a.name, a]));
    const arms = names.map((name) => {
      const a = recs.get(name);
      return { name, kind: a?.kind ?? '', status: a?.status ?? 'pending', done: store.countResults(r.id, name), total: test };
    });
    const done = arms.reduce((s, a) => s + a.done, 0);
    const s: RunSummary = {
      id: r.id,
      experiment: r.experiment,
      status: r.status,
      createdAt: new Date(r.createdAt).toISOString(),
      test,
      done,
      total: test * arms.length,
      arms,
    };
    if (r.finishedAt) s.finishedAt = new Date(r.finishedAt).toISOString();
    return s;
  });
}

export interface ExampleDetail {
  example: ExampleEvidence;
  /** the messages each arm sent for it */
  messages: Record<string, SentMessage[] | undefined>;
}

export function exampleDetail(store: Store, report: RunReport, exampleId: string): ExampleDetail | undefined {
  const ex = report.evidence?.examples.find((e) => e.id === exampleId);
  if (!ex) return undefined;
  const messages: Record<string, SentMessage[] | undefined> = {};
  for (const a of report.arms) {
    let req: unknown;
    for (const c of store.listCalls(report.runId, a.name))
      if (c.exampleId === exampleId && (!c.error || req === undefined)) req = c.request;
    messages[a.name] = messagesOf(req);
  }
  return { example: ex, messages };
}

export interface CompareRow {
  id: string;
  expected: string;
  input?: ExampleEvidence['input'];
  arms: Record<string, { a?: boolean; b?: boolean; aAnswer?: string; bAnswer?: string }>;
  changed: boolean;
}
export interface Comparison {
  a: { runId: string; createdAt: string };
  b: { runId: string; createdAt: string };
  arms: { name: string; a?: number; b?: number; fixed: number; broken: number }[];
  rows: CompareRow[];
  /** examples in both runs */
  common: number;
}

/** Two runs of the same task, example by example: which arm's answers turned right or wrong. */
export function compareRuns(a: RunReport, b: RunReport): Comparison {
  const ea = new Map((a.evidence?.examples ?? []).map((e) => [e.id, e]));
  const names = [...new Set([...a.arms.map((x) => x.name), ...b.arms.map((x) => x.name)])];
  const arms = names.map((name) => ({
    name,
    a: a.arms.find((x) => x.name === name)?.metric.value,
    b: b.arms.find((x) => x.name === name)?.metric.value,
    fixed: 0,
    broken: 0,
  }));
  const rows: CompareRow[] = [];
  let common = 0;
  for (const eb of b.evidence?.examples ?? []) {
    const ex = ea.get(eb.id);
    if (!ex) continue;
    common++;
    const row: CompareRow = { id: eb.id, expected: eb.expected, arms: {}, changed: false };
    if (eb.input !== undefined) row.input = eb.input;
    for (const arm of arms) {
      const oa = ex.arms[arm.name];
      const ob = eb.arms[arm.name];
      if (!oa && !ob) continue;
      row.arms[arm.name] = { a: oa?.pass, b: ob?.pass, aAnswer: oa?.extracted ?? oa?.output, bAnswer: ob?.extracted ?? ob?.output };
      if (oa && ob && oa.pass !== ob.pass) {
        row.changed = true;
        if (ob.pass) arm.fixed++;
        else arm.broken++;
      }
    }
    rows.push(row);
  }
  return { a: { runId: a.runId, createdAt: a.createdAt }, b: { runId: b.runId, createdAt: b.createdAt }, arms, rows, common };
}

export interface FinetuneArmView {
  arm: string;
  kind: string;
  status: string;
  modelId: string;
  training?: RunReport['arms'][number]['training'];
  hyperparameters: Record<string, unknown>;
  curve?: NonNullable<RunReport['evidence']>['curves'][number];
  /** the record format the model was trained on: the prompt rendered for one example plus the expected answer */
  preview: { messages: SentMessage[]; source: string }[];
  error?: string;
}

const HYPER = [
  'method',
  'epochs',
  'learningRate',
  'batchSize',
  'rank',
  'alpha',
  'dropout',
  'targetModules',
  'maxSteps',
  'patience',
  'maxSeqLen',
  'trainExamples',
  'devExamples',
  'seed',
  'shots',
];

/** Fine-tune arms of a run: training status, curves, hyperparameters, and a look at the training data. */
export function finetuneArms(store: Store, report: RunReport): FinetuneArmView[] {
  const run = store.getRun(report.runId);
  const cfg = configArms(run?.meta.config);
  const recs = new Map(store.listArms(report.runId).map((a) => [a.name, a]));
  const out: FinetuneArmView[] = [];
  for (const a of report.arms) {
    const rec = recs.get(a.name);
    const art = rec?.artifact as { kind?: string; modelDir?: string } | undefined;
    if (!a.training && art?.kind !== 'tunelab.finetune' && !/fine|lora|tun|distill/i.test(a.kind)) continue;
    const c = cfg.get(a.name) ?? {};
    const hyper: Record<string, unknown> = {};
    for (const k of HYPER) if (c[k] !== undefined) hyper[k] = c[k];
    for (const [k, v] of Object.entries(a.training?.details ?? {})) if (hyper[k] === undefined && v !== undefined) hyper[k] = v;
    const preview: FinetuneArmView['preview'] = [];
    // training files written next to the weights, when the backend kept them
    if (art?.modelDir && existsSync(art.modelDir)) {
      try {
        for (const f of readdirSync(art.modelDir)) {
          if (!/\.jsonl$/.test(f) || preview.length >= 3) continue;
          const p = join(art.modelDir, f);
          if (statSync(p).size > 64 << 20) continue;
          for (const line of readFileSync(p, 'utf8').split('\n').slice(0, 3)) {
            const msgs = messagesOf(safeJson(line));
            if (msgs) preview.push({ messages: msgs, source: `${f}` });
          }
        }
      } catch {
        /* a folder we cannot read: no preview from it */
      }
    }
    if (!preview.length) {
      const p = report.evidence?.prompts.find((x) => x.arm === a.name);
      const ex = report.evidence?.examples.find((e) => e.id === p?.exampleId);
      if (p?.messages)
        preview.push({
          messages: [...p.messages, ...(ex ? [{ role: 'assistant', content: ex.expected }] : [])],
          source: 'the prompt this arm renders, with the expected answer (the shape of each training record)',
        });
    }
    const v: FinetuneArmView = {
      arm: a.name,
      kind: a.kind,
      status: rec?.status ?? a.status,
      modelId: a.modelId,
      hyperparameters: hyper,
      preview,
    };
    if (a.training) v.training = a.training;
    const curve = report.evidence?.curves.find((x) => x.arm === a.name);
    if (curve) v.curve = curve;
    if (a.error) v.error = a.error;
    out.push(v);
  }
  return out;
}

function safeJson(s: string): unknown {
  try {
    return JSON.parse(s);
  } catch {
    return undefined;
  }
}

/** Open a store for reading only (a run may be writing it). */
export function openForReading(path: string): Store {
  return openStore(path, { readonly: true, env: {} });
}
