import type { TemplateProgram } from '../program.ts';
import { successiveHalving, type SearchCandidate } from '../search.ts';
import { deriveSeed, Rng } from '../../core/index.ts';
import { bootstrapDemos, demoSets } from './bootstrap.ts';
import { evaluatorFor, halvingResult, type OptimizeContext, type OptimizeResult } from './common.ts';
import { propose, proposerMessages } from './instructions.ts';

export interface MiproOptions {
  /** demonstrations per set (default 4) */
  k?: number;
  /** instruction candidates proposed (default 4; plus the base instruction) */
  instructions?: number;
  /** demonstration sets (default 4; plus none) */
  demoSets?: number;
  /** instruction × demo-set combinations searched (default 16; seeded sample, base × none always in) */
  trials?: number;
  teacherShots?: number;
  maxBootstrapped?: number;
  /** share of the call budget for bootstrapping (default 0.3) */
  bootstrapShare?: number;
  failures?: number;
  temperature?: number;
  eta?: number;
}

/**
 * A joint search over instructions and demonstrations (MIPRO-like, without the Bayesian surrogate):
 * bootstrap demonstrations on train, propose instructions from the teacher's failures (one proposer
 * call), then successive halving over a seeded sample of instruction × demo-set combinations on dev.
 */
export async function mipro(o: OptimizeContext, base: TemplateProgram, opts: MiproOptions = {}): Promise<OptimizeResult> {
  const k = opts.k ?? 4;
  const total = o.meter.callsLeft();
  const bootCalls = Number.isFinite(total) ? Math.floor(total * (opts.bootstrapShare ?? 0.3)) : o.train.length;
  const boot = await bootstrapDemos(o, base, {
    teacherShots: opts.teacherShots ?? k,
    maxAccepted: opts.maxBootstrapped ?? 3 * k,
    maxCalls: bootCalls,
  });
  const nInstr = opts.instructions ?? 4;
  const msgs = proposerMessages({
    labels: o.labels,
    inputFields: o.inputFields,
    history: [{ instruction: base.instruction, score: boot.tried ? boot.accepted.length / boot.tried : 0, n: boot.tried }],
    failures: boot.failures.slice(0, opts.failures ?? 6),
    successes: boot.accepted
      .slice(0, 2)
      .map((d) => ({ example: o.train.find((e) => e.id === d.id)! }))
      .filter((s) => s.example),
    count: nInstr,
  });
  const proposals = (await propose(o, o.proposer ?? o.model, msgs, opts.temperature ?? 0.7, 0))
    .filter((p) => p !== base.instruction)
    .slice(0, nInstr);
  const instructions = [base.instruction, ...proposals];
  const sets = [{ label: 'no demos', demos: [] as TemplateProgram['demos'] }, ...demoSets(o, boot.accepted, k, opts.demoSets ?? 4)];
  const combos: { i: number; s: number }[] = [];
  for (let i = 0; i < instructions.length; i++) for (let s = 0; s < sets.length; s++) combos.push({ i, s });
  const trials = opts.trials ?? 16;
  const rest = new Rng(deriveSeed(o.seed, 'mipro:combos')).sample(combos.slice(1), Math.max(0, trials - 1));
  const chosen = [combos[0], ...rest];
  const cands: SearchCandidate[] = chosen.map((c, j) => {
    let p = base.with({ demos: [...base.demos, ...sets[c.s].demos] });
    if (c.i > 0) p = p.withInstruction(instructions[c.i]);
    return {
      id: `m${j}`,
      label: `instruction#${c.i} × ${sets[c.s].label}`,
      program: p,
      info: { instruction: instructions[c.i], demos: sets[c.s].demos.map((d) => d.id) },
    };
  });
  const sh = await successiveHalving(cands, o.dev, evaluatorFor(o), { eta: opts.eta, budgetCalls: o.meter.callsLeft(), seed: o.seed });
  o.log(
    `mipro: ${boot.accepted.length} bootstrapped, ${proposals.length} instructions, ${cands.length} combinations; best ${sh.best.label} dev ${sh.bestScore.toFixed(3)}`,
  );
  return halvingResult(o, base, sh, { bootstrapped: boot.accepted.map((d) => d.id), instructions, rungs: sh.rungs, chosen: sh.best.label });
}
