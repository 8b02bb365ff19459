// Per-example evidence: every test example with each arm's outcome, the messages each arm sent, and
// fine-tune loss curves. Built from plain rows (the CLI and the viewer read them from the store), so
// this file stays free of the store and of I/O.
import type { ArmPrompt, ExampleEvidence, ExampleOutcome, LossCurve, RunEvidence, RunReport, SentMessage } from './types.ts';

/** One stored result row, as the store gives it back. */
export interface EvidenceResult {
  exampleId: string;
  expected: string;
  output: string;
  extracted?: string;
  score: number;
  pass: boolean;
  error?: string;
  latencyMs: number;
  tokensIn: number;
  tokensOut: number;
  costUsd: number;
  cached?: boolean;
}

/** A test example as the data gave it (when the store keeps it). */
export interface EvidenceExample {
  id: string;
  input?: Record<string, unknown>;
  expected?: string;
  source?: { file: string; line: number };
}

export interface EvidenceInput {
  /** arm names in report order, with what the store holds about each */
  arms: { name: string; kind?: string; artifact?: unknown; config?: Record<string, unknown> }[];
  /** test example ids in split order */
  testIds?: string[];
  /** the test examples themselves, when stored */
  examples?: EvidenceExample[];
  results: Map<string, EvidenceResult[]>;
  /** the request an arm sent for an example (its chat messages), when calls were logged */
  request?: (arm: string, exampleId: string) => unknown;
}

/** Keys of an arm's config that are not prompt settings. */
const NOT_PROMPT = new Set([
  'name',
  'kind',
  'model',
  'epochs',
  'learningRate',
  'batchSize',
  'rank',
  'alpha',
  'dropout',
  'targetModules',
  'seed',
  'method',
  'maxSteps',
  'patience',
  'maxSeqLen',
  'trainExamples',
  'devExamples',
]);

export function messagesOf(request: unknown): SentMessage[] | undefined {
  const msgs = (request as { messages?: unknown } | undefined)?.messages;
  if (!Array.isArray(msgs)) return undefined;
  const out: SentMessage[] = [];
  for (const m of msgs) {
    if (!m || typeof m !== 'object') continue;
    const role = String((m as { role?: unknown }).role ?? '');
    const c = (m as { content?: unknown }).content;
    const content =
      typeof c === 'string'
        ? c
        : Array.isArray(c)
          ? c.map((p) => (typeof p === 'string' ? p : typeof p?.text === 'string' ? p.text : '')).join('')
          : JSON.stringify(c ?? '');
    out.push({ role, content });
  }
  return out;
}

/** "data/x.jsonl:12" → { file, line } (ids the loader made from the file and line). */
export function sourceFromId(id: string): { file: string; line: number } | undefined {
  const m = /^(.+\.[A-Za-z0-9]+):(\d+)$/.exec(id);
  return m ? { file: m[1], line: Number(m[2]) } : undefined;
}

function curveOf(arm: string, artifact: unknown): LossCurve | undefined {
  const s = (artifact as { summary?: { losses?: unknown; valLosses?: unknown; bestStep?: unknown } } | undefined)?.summary;
  if (!s || !Array.isArray(s.losses)) return undefined;
  const train = s.losses.filter((x): x is number => typeof x === 'number' && Number.isFinite(x));
  const val = Array.isArray(s.valLosses)
    ? s.valLosses.filter(
        (v): v is { step: number; loss: number } =>
          !!v && typeof v.step === 'number' && typeof v.loss === 'number' && Number.isFinite(v.loss),
      )
    : [];
  const c: LossCurve = { arm, train, val: val.map((v) => ({ step: v.step, loss: v.loss })) };
  if (typeof s.bestStep === 'number') c.bestStep = s.bestStep;
  return c;
}

export function buildEvidence(input: EvidenceInput): RunEvidence {
  const armNames = input.arms.map((a) => a.name);
  const stored = new Map((input.examples ?? []).map((e) => [e.id, e]));
  const byArm = new Map<string, Map<string, EvidenceResult>>();
  for (const a of armNames) byArm.set(a, new Map((input.results.get(a) ?? []).map((r) => [r.exampleId, r])));

  // every example id, in split order, then any that only results know
  const ids: string[] = [];
  const seen = new Set<string>();
  const add = (id: string) => {
    if (!seen.has(id)) {
      seen.add(id);
      ids.push(id);
    }
  };
  for (const id of input.testIds ?? []) add(id);
  for (const a of armNames) for (const r of input.results.get(a) ?? []) add(r.exampleId);

  const examples: ExampleEvidence[] = ids.map((id, idx) => {
    const arms: Record<string, ExampleOutcome> = {};
    let expected = stored.get(id)?.expected;
    for (const a of armNames) {
      const r = byArm.get(a)!.get(id);
      if (!r) continue;
      expected ??= r.expected;
      const o: ExampleOutcome = {
        output: r.output,
        score: r.score,
        pass: r.pass,
        latencyMs: r.latencyMs,
        tokensIn: r.tokensIn,
        tokensOut: r.tokensOut,
        costUsd: r.costUsd,
      };
      if (r.extracted !== undefined && r.extracted !== null) o.extracted = r.extracted;
      if (r.error) o.error = r.error;
      if (r.cached) o.cached = true;
      arms[a] = o;
    }
    const outs = Object.values(arms);
    const answers = new Set(outs.map((o) => (o.error ? '\u0000error' : (o.extracted ?? o.output).trim())));
    const passes = new Set(outs.map((o) => o.pass));
    const ex: ExampleEvidence = {
      id,
      idx,
      expected: expected ?? '',
      arms,
      disagree: outs.length > 1 && (answers.size > 1 || passes.size > 1),
    };
    const st = stored.get(id);
    if (st?.input) ex.input = st.input;
    else if (input.request) {
      for (const a of armNames) {
        const msgs = messagesOf(input.request(a, id));
        const user = msgs?.filter((m) => m.role === 'user').at(-1);
        if (user) {
          ex.input = user.content;
          break;
        }
      }
    }
    const src = st?.source ?? sourceFromId(id);
    if (src) ex.source = src;
    return ex;
  });

  const firstId = ids[0];
  const prompts: ArmPrompt[] = input.arms.map((a) => {
    const p: ArmPrompt = { arm: a.name };
    if (a.config) {
      const t: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(a.config)) if (!NOT_PROMPT.has(k) && v !== undefined) t[k] = v;
      if (Object.keys(t).length) p.template = t;
    }
    if (input.request && firstId !== undefined) {
      // the first example this arm answered (the split's first, normally)
      const exId = byArm.get(a.name)!.has(firstId) ? firstId : (input.results.get(a.name) ?? [])[0]?.exampleId;
      const msgs = exId !== undefined ? messagesOf(input.request(a.name, exId)) : undefined;
      if (msgs) {
        p.exampleId = exId;
        p.messages = msgs;
      }
    }
    return p;
  });

  const curves: LossCurve[] = [];
  for (const a of input.arms) {
    const c = curveOf(a.name, a.artifact);
    if (c && c.train.length) curves.push(c);
  }
  return { examples, prompts, curves };
}

/** The arm with the highest metric among those that finished (the one whose failures matter most). */
export function bestArm(report: RunReport): string | undefined {
  let best: { name: string; v: number } | undefined;
  for (const a of report.arms) {
    if (!Number.isFinite(a.metric.value) || a.n === 0) continue;
    if (!best || a.metric.value > best.v) best = { name: a.name, v: a.metric.value };
  }
  return best?.name;
}

/** Why an example is worth a look: the arms disagree, the best arm failed, or both. */
export function flagsOf(ex: ExampleEvidence, best?: string): { disagree: boolean; bestFails: boolean } {
  const b = best ? ex.arms[best] : undefined;
  return { disagree: ex.disagree, bestFails: !!b && !b.pass };
}

/**
 * The examples a reader should see first: the arms disagree or the best arm fails (both first), in
 * split order within each group. Returns the shown slice and how many qualified in all.
 */
export function notableExamples(report: RunReport, cap: number): { shown: ExampleEvidence[]; total: number; best?: string } {
  const ev = report.evidence;
  const best = bestArm(report);
  if (!ev) return { shown: [], total: 0, best };
  const rank = (ex: ExampleEvidence) => {
    const f = flagsOf(ex, best);
    return f.disagree && f.bestFails ? 0 : f.bestFails ? 1 : f.disagree ? 2 : 3;
  };
  const notable = ev.examples.filter((e) => rank(e) < 3).sort((a, b) => rank(a) - rank(b) || a.idx - b.idx);
  return { shown: notable.slice(0, cap), total: notable.length, best };
}

/** How many examples Markdown and HTML reports show in full. */
export const EXAMPLES_SHOWN = 25;

/** A short text of an input (fields joined), for tables. */
export function inputText(input: ExampleEvidence['input']): string {
  if (input === undefined) return '';
  if (typeof input === 'string') return input;
  const keys = Object.keys(input);
  if (keys.length === 1) return String(typeof input[keys[0]] === 'string' ? input[keys[0]] : JSON.stringify(input[keys[0]]));
  return keys.map((k) => `${k}: ${typeof input[k] === 'string' ? input[k] : JSON.stringify(input[k])}`).join('\n');
}
