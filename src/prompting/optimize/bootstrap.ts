import type { Example } from '../../task/types.ts';
import { demoOf, type Demo, type TemplateProgram } from '../program.ts';
import { successiveHalving, type SearchCandidate } from '../search.ts';
import { deriveSeed, Rng } from '../../core/index.ts';
import { evaluatorFor, halvingResult, type OptimizeContext, type OptimizeResult } from './common.ts';

export interface BootstrapOptions {
  /** demonstrations per candidate set (default 4) */
  k?: number;
  /** candidate demonstration sets searched (default 8; plus the zero-shot baseline) */
  candidates?: number;
  /** labeled demonstrations the teacher sees while bootstrapping (default k) */
  teacherShots?: number;
  /** stop bootstrapping after this many accepted demonstrations (default 3k) */
  maxBootstrapped?: number;
  /** share of the call budget for bootstrapping (default 0.4) */
  bootstrapShare?: number;
  eta?: number;
}

export interface Bootstrapped {
  accepted: Demo[];
  failures: { example: Example; output: string; parsed: string }[];
  tried: number;
}

/**
 * Run the teacher (the base prompt plus `teacherShots` labeled train demos, never the example itself)
 * on train examples in seeded order; keep those the metric accepts as demonstrations.
 */
export async function bootstrapDemos(
  o: OptimizeContext,
  base: TemplateProgram,
  opts: { teacherShots: number; maxAccepted: number; maxCalls: number },
): Promise<Bootstrapped> {
  const ev = evaluatorFor(o);
  const teacher = o.teacher ?? o.model;
  const order = new Rng(deriveSeed(o.seed, 'bootstrap:order')).shuffle(o.train);
  const reasoning = base.formatSpec.reasoning === true;
  const accepted: Demo[] = [];
  const failures: Bootstrapped['failures'] = [];
  let tried = 0;
  const batch = Math.max(1, o.concurrency ?? 8);
  while (tried < order.length && accepted.length < opts.maxAccepted) {
    const n = Math.min(batch, order.length - tried, opts.maxCalls - tried, o.meter.callsLeft());
    if (n <= 0 || !o.meter.canCall()) break;
    const chunk = order.slice(tried, tried + n);
    tried += n;
    const results = await Promise.all(
      chunk.map(async (e) => {
        const pool = o.train.filter((x) => x.id !== e.id);
        const shots = new Rng(deriveSeed(o.seed, `teacher:${e.id}`)).sample(pool, opts.teacherShots).map((x) => demoOf(x));
        const prog = base.with({ demos: [...base.demos, ...shots] });
        const { items } = await ev.run(prog, [e], teacher);
        return { e, item: items[0] };
      }),
    );
    for (const { e, item } of results) {
      if (!item) continue;
      if (item.pass) accepted.push(demoOf(e, reasoning ? item.output : undefined));
      else failures.push({ example: e, output: item.output, parsed: item.parsed });
    }
  }
  return { accepted: accepted.slice(0, opts.maxAccepted), failures, tried };
}

/** Demonstration-set candidates: labeled-only, the first bootstrapped, and seeded random mixes. */
export function demoSets(o: OptimizeContext, boot: Demo[], k: number, count: number): { label: string; demos: Demo[] }[] {
  const rng = new Rng(deriveSeed(o.seed, 'bootstrap:sets'));
  const sets: { label: string; demos: Demo[] }[] = [];
  const labeled = () => rng.sample(o.train, k).map((e) => demoOf(e));
  sets.push({ label: `labeled k=${k}`, demos: labeled() });
  if (boot.length) sets.push({ label: `bootstrapped first ${Math.min(k, boot.length)}`, demos: boot.slice(0, k) });
  const seen = new Set(sets.map((s) => s.demos.map((d) => d.id).join(',')));
  for (let tries = 0; sets.length < count && tries < count * 10; tries++) {
    const size = boot.length ? 1 + rng.int(Math.min(k, boot.length)) : k;
    const b = rng.sample(boot, size);
    const fill = rng
      .sample(
        o.train.filter((e) => !b.some((d) => d.id === e.id)),
        k - b.length,
      )
      .map((e) => demoOf(e));
    const demos = rng.shuffle([...b, ...fill]);
    const key = demos.map((d) => d.id).join(',');
    if (seen.has(key)) continue;
    seen.add(key);
    sets.push({ label: `bootstrapped ${b.length} + labeled ${fill.length}`, demos });
  }
  return sets.slice(0, count);
}

/** Bootstrap few-shot with random search over demonstration sets, scored on dev by successive halving. */
export async function bootstrapFewShot(o: OptimizeContext, base: TemplateProgram, opts: BootstrapOptions = {}): Promise<OptimizeResult> {
  const k = opts.k ?? 4;
  const count = opts.candidates ?? 8;
  const total = o.meter.callsLeft();
  const share = opts.bootstrapShare ?? 0.4;
  const bootCalls = Number.isFinite(total) ? Math.floor(total * share) : o.train.length;
  const boot = await bootstrapDemos(o, base, {
    teacherShots: opts.teacherShots ?? k,
    maxAccepted: opts.maxBootstrapped ?? 3 * k,
    maxCalls: bootCalls,
  });
  o.log(`bootstrap: ${boot.accepted.length} accepted of ${boot.tried} train examples run`);
  const cands: SearchCandidate[] = [{ id: 'c0', label: 'zero-shot (base)', program: base }];
  for (const s of demoSets(o, boot.accepted, k, count)) {
    cands.push({
      id: `c${cands.length}`,
      label: s.label,
      program: base.with({ demos: [...base.demos, ...s.demos] }),
      info: { demos: s.demos.map((d) => d.id) },
    });
  }
  const ev = evaluatorFor(o);
  const sh = await successiveHalving(cands, o.dev, ev, { eta: opts.eta, budgetCalls: o.meter.callsLeft(), seed: o.seed });
  return halvingResult(o, base, sh, {
    bootstrapped: boot.accepted.map((d) => d.id),
    tried: boot.tried,
    rungs: sh.rungs,
    chosen: sh.best.label,
  });
}
