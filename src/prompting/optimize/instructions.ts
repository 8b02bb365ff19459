import type { ChatModel } from '../../models/types.ts';
import type { Example } from '../../task/types.ts';
import { extractJson } from '../format.ts';
import type { TemplateProgram } from '../program.ts';
import { successiveHalving, type CandidateScore, type SearchCandidate } from '../search.ts';
import { deriveSeed, Rng } from '../../core/index.ts';
import { evaluatorFor, finalScore, memoScore, type OptimizeContext, type OptimizeResult } from './common.ts';

export interface InstructionOptions {
  /** proposal rounds (default 3) */
  rounds?: number;
  /** new instructions asked for per round (default 4) */
  candidates?: number;
  /** train examples the incumbent runs on per round to find failures (default 12) */
  trainBatch?: number;
  /** failures shown to the proposer (default 6) */
  failures?: number;
  /** proposer temperature (default 0.7) */
  temperature?: number;
  eta?: number;
}

export const PROPOSER_SYSTEM = 'You improve the instructions given to a language model for a task. You write clear, specific instructions.';

function clip(s: string, n = 400): string {
  return s.length > n ? `${s.slice(0, n)}…` : s;
}

function inputText(e: Example): string {
  return Object.entries(e.input)
    .map(([k, v]) => `${k}: ${clip(typeof v === 'string' ? v : JSON.stringify(v))}`)
    .join('\n');
}

/** The proposer's request: task, past instructions with their dev scores (worst first, OPRO style), failures. */
export function proposerMessages(args: {
  labels?: string[];
  inputFields: string[];
  history: { instruction: string; score: number; n: number }[];
  failures: { example: Example; parsed: string }[];
  successes?: { example: Example }[];
  count: number;
}): { role: 'system' | 'user'; content: string }[] {
  const lines: string[] = [];
  lines.push(
    `Task: given ${args.inputFields.join(', ')}, the model must produce the expected answer${args.labels?.length ? ` (one of: ${args.labels.join(', ')})` : ''}.`,
  );
  lines.push('', 'Instructions tried so far, with their accuracy on held-out examples (worst first):');
  const hist = args.history.slice().sort((a, b) => a.score - b.score);
  for (const h of hist) lines.push(`- score ${h.score.toFixed(2)} (n=${h.n}): ${JSON.stringify(h.instruction)}`);
  if (args.failures.length) {
    lines.push('', 'Examples the current best instruction gets wrong:');
    for (const f of args.failures)
      lines.push('', inputText(f.example), `Expected: ${f.example.expected}`, `Model answered: ${clip(f.parsed, 120)}`);
  }
  if (args.successes?.length) {
    lines.push('', 'Examples it gets right:');
    for (const s of args.successes) lines.push('', inputText(s.example), `Expected: ${s.example.expected}`);
  }
  lines.push(
    '',
    `Write ${args.count} new, different instructions that would make the model answer all of these correctly. State the rule that decides the answer. Reply with a JSON array of ${args.count} strings and nothing else.`,
  );
  return [
    { role: 'system', content: PROPOSER_SYSTEM },
    { role: 'user', content: lines.join('\n') },
  ];
}

/** Parse the proposer's reply: a JSON array of strings, else one instruction per line (bullets and numbers stripped). */
export function parseProposals(text: string): string[] {
  const v = extractJson(text);
  let out: string[];
  if (Array.isArray(v))
    out = v
      .map((x) =>
        typeof x === 'string'
          ? x
          : x && typeof x === 'object' && 'instruction' in x
            ? String((x as { instruction: unknown }).instruction)
            : '',
      )
      .filter(Boolean);
  else
    out = text
      .split('\n')
      .map((l) =>
        l
          .replace(/^\s*(?:[-*•]|\d+[.)])\s*/, '')
          .replace(/^["']|["'],?$/g, '')
          .trim(),
      )
      .filter((l) => l.length >= 8);
  return [...new Set(out.map((s) => s.trim()).filter(Boolean))];
}

/** Ask the proposer for `count` instructions (one metered call). */
export async function propose(
  o: OptimizeContext,
  proposer: ChatModel,
  msgs: ReturnType<typeof proposerMessages>,
  temperature: number,
  salt: number,
): Promise<string[]> {
  if (!o.meter.canCall()) return [];
  const r = await proposer.complete({ messages: msgs, temperature, seed: o.seed + salt }, { signal: o.signal });
  return parseProposals(r.text);
}

/**
 * Instruction proposal (OPRO / APE style): each round the incumbent runs on a train batch, the proposer
 * sees its failures and the score history and writes new instructions; the incumbent and the new ones
 * are scored on dev by successive halving; the best becomes the incumbent.
 */
export async function proposeInstructions(
  o: OptimizeContext,
  base: TemplateProgram,
  opts: InstructionOptions = {},
): Promise<OptimizeResult> {
  const rounds = opts.rounds ?? 3;
  const count = opts.candidates ?? 4;
  const trainBatch = opts.trainBatch ?? 12;
  const showFailures = opts.failures ?? 6;
  const ev = evaluatorFor(o);
  const proposer = o.proposer ?? o.model;
  const trainOrder = new Rng(deriveSeed(o.seed, 'instructions:train')).shuffle(o.train);
  let incumbent: SearchCandidate = { id: 'i0', label: 'base instruction', program: base, info: { instruction: base.instruction } };
  const all: SearchCandidate[] = [incumbent];
  const history = new Map<string, { instruction: string; score: number; n: number }>();
  const table = new Map<string, CandidateScore>();
  let best = { score: -1, n: 0 };
  const roundsLog: unknown[] = [];
  for (let r = 0; r < rounds; r++) {
    if (!o.meter.canCall()) break;
    const left = o.meter.callsLeft();
    const roundBudget = Number.isFinite(left) ? Math.floor(left / (rounds - r)) : Infinity;
    const tb = Math.max(1, Math.min(trainBatch, Math.floor((roundBudget - 1) / 3)));
    const batch = Array.from({ length: tb }, (_, i) => trainOrder[(r * trainBatch + i) % trainOrder.length]).filter(
      (e, i, a) => a.findIndex((x) => x.id === e.id) === i,
    );
    const run = await ev.run(incumbent.program, batch);
    const failures = run.items
      .filter((i) => !i.pass)
      .slice(0, showFailures)
      .map((i) => ({ example: batch.find((e) => e.id === i.id)!, parsed: i.parsed }));
    const successes = run.items
      .filter((i) => i.pass)
      .slice(0, 2)
      .map((i) => ({ example: batch.find((e) => e.id === i.id)! }));
    if (!history.size)
      history.set(base.instruction, {
        instruction: base.instruction,
        score: run.items.length ? run.items.filter((i) => i.pass).length / run.items.length : 0,
        n: run.items.length,
      });
    const msgs = proposerMessages({
      labels: o.labels,
      inputFields: o.inputFields,
      history: [...history.values()],
      failures,
      successes,
      count,
    });
    const proposals = (await propose(o, proposer, msgs, opts.temperature ?? 0.7, r))
      .filter((p) => !history.has(p) && !all.some((c) => c.info?.instruction === p))
      .slice(0, count);
    const fresh = proposals.map((p, i) => ({
      id: `i${all.length + i}`,
      label: `round ${r + 1} proposal ${i + 1}`,
      program: base.withInstruction(p),
      info: { instruction: p, round: r + 1 },
    }));
    all.push(...fresh);
    const cands = [incumbent, ...fresh];
    const spend = Math.max(0, Math.min(o.meter.callsLeft(), Number.isFinite(roundBudget) ? roundBudget - tb - 1 : Infinity));
    const sh = await successiveHalving(cands, o.dev, ev, {
      eta: opts.eta,
      budgetCalls: r === rounds - 1 ? o.meter.callsLeft() : spend,
      seed: o.seed,
    });
    for (const row of sh.table) {
      if (row.rung >= 0) table.set(row.id, row);
      const instr = cands.find((c) => c.id === row.id)!.info!.instruction as string;
      if (row.rung >= 0) history.set(instr, { instruction: instr, score: row.devScore, n: row.n });
    }
    roundsLog.push({
      round: r + 1,
      failures: failures.length,
      proposals: proposals.length,
      chosen: sh.best.id,
      devScore: sh.bestScore,
      n: sh.bestN,
    });
    incumbent = sh.best;
    best = { score: sh.bestScore, n: sh.bestN };
    o.log(`instructions round ${r + 1}: ${proposals.length} proposals, best ${sh.best.id} dev ${sh.bestScore.toFixed(3)} (n=${sh.bestN})`);
  }
  const fin = await finalScore(o, incumbent.program, best);
  return {
    program: incumbent.program,
    devScore: fin.score,
    devN: fin.n,
    baselineScore: memoScore(o, base)?.score,
    table: all.map((c) => table.get(c.id) ?? { id: c.id, label: c.label, hash: c.program.hash, devScore: 0, n: 0, rung: -1, info: c.info }),
    details: { rounds: roundsLog, chosen: incumbent.info?.instruction },
  };
}
