// `tunelab advise [run] [--volume N] [--horizon M] [--max-latency MS] ...`: the recommendation of a stored run,
// recomputed from the store under other assumptions (volume, horizon, requirements, budgets). Calls no model.
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { buildRunReport } from '../../experiment/index.ts';
import { openForReading } from '../../view/data.ts';
import { decisionOfRun, type DecisionSettings } from '../../decide/index.ts';
import { decisionTable, decisionMarkdown } from '../../report/decision.ts';
import { decisionHtml } from '../../report/decision-html.ts';
import { InputError } from '../../core/index.ts';
import { findRun, locateStore } from '../store-path.ts';

const HELP = `Usage: tunelab advise [run|latest] [options]

Recomputes the recommendation of a stored run from the store (no model is called): among the arms that
meet the requirements, the cheapest over the horizon of those the test split cannot tell apart from the
best; or which requirement each arm misses. Options override the config's \`decision:\` block.

Options:
  --volume <n>          requests per month (decision.requestsPerMonth)
  --horizon <months>    months the cost is counted over (decision.horizonMonths)
  --max-latency <ms>    largest acceptable p95 latency (decision.maxP95LatencyMs)
  --min-metric <x>      smallest acceptable task metric (decision.minMetric)
  --budget-oneoff <usd> one-off budget (decision.budget.oneOffUsd)
  --budget-monthly <usd> monthly budget (decision.budget.monthlyUsd)
  --compute-per-hour <usd> price of a CPU-hour for local models (decision.computePerHour)
  -f, --format <fmt>    table (default), md, json or html
  -o, --out <file>      write to a file instead of stdout
  -c, --config <file>   config whose output folder holds the store (default tunelab.yaml)
  --store <file>        the SQLite store (overrides --config)
  -h, --help            this help
`;

function num(v: string | undefined, flag: string, min = 0): number | undefined {
  if (v === undefined) return undefined;
  const x = Number(v);
  if (!Number.isFinite(x) || x < min) throw new InputError(flag, `expected a number ≥ ${min}, got '${v}'`);
  return x;
}

export default async function advise(_first: unknown, _opts: unknown, cmd?: { args?: string[] }): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: cmd?.args ?? [],
      allowPositionals: true,
      options: {
        volume: { type: 'string' },
        horizon: { type: 'string' },
        'max-latency': { type: 'string' },
        'min-metric': { type: 'string' },
        'budget-oneoff': { type: 'string' },
        'budget-monthly': { type: 'string' },
        'compute-per-hour': { type: 'string' },
        format: { type: 'string', short: 'f' },
        out: { type: 'string', short: 'o' },
        config: { type: 'string', short: 'c' },
        store: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (e) {
    throw new InputError('tunelab advise', `${(e as Error).message} (see tunelab advise --help)`);
  }
  const { values: v, positionals } = parsed;
  if (v.help) {
    process.stdout.write(HELP);
    return 0;
  }
  const format = v.format ?? 'table';
  if (!['table', 'md', 'json', 'html'].includes(format))
    throw new InputError('--format', `expected table, md, json or html, got '${format}'`);
  const overrides: Partial<DecisionSettings> = {
    requestsPerMonth: num(v.volume, '--volume'),
    horizonMonths: num(v.horizon, '--horizon', 1e-9),
    maxP95LatencyMs: num(v['max-latency'], '--max-latency'),
    minMetric: num(v['min-metric'], '--min-metric', -Infinity),
    computePerHour: num(v['compute-per-hour'], '--compute-per-hour'),
  };
  const oneOff = num(v['budget-oneoff'], '--budget-oneoff');
  const monthly = num(v['budget-monthly'], '--budget-monthly');
  const runArg = positionals[0] ?? 'latest';
  const path = await locateStore({ config: v.config ?? 'tunelab.yaml', store: v.store });
  const store = openForReading(path); // advise only reads: it runs beside a `tunelab run` that holds the writer lock
  try {
    const run = findRun(store, runArg, path);
    const report = buildRunReport(store, run.id);
    const armRecs = store.listArms(run.id);
    const results = new Map(armRecs.map((a) => [a.name, store.results(run.id, a.name)]));
    const base = report.decision?.settings;
    if (oneOff !== undefined || monthly !== undefined)
      overrides.budget = {
        ...(base?.budget ?? {}),
        ...(oneOff !== undefined ? { oneOffUsd: oneOff } : {}),
        ...(monthly !== undefined ? { monthlyUsd: monthly } : {}),
      };
    const decision = decisionOfRun(run, armRecs, results, report.arms, overrides);
    const withDecision = { ...report, decision };
    const text =
      format === 'json'
        ? JSON.stringify({ runId: run.id, recommendation: decision.recommendation, decision }, null, 2) + '\n'
        : format === 'md'
          ? decisionMarkdown(withDecision)
          : format === 'html'
            ? `<!doctype html><meta charset="utf-8"><title>tunelab advise ${run.id}</title><body style="font-family:sans-serif">${decisionHtml(withDecision)}</body>\n`
            : decisionTable(withDecision, { color: !v.out && Boolean(process.stdout.isTTY) });
    if (v.out) writeFileSync(v.out, text);
    else process.stdout.write(text);
    return decision.recommendation.verdict === 'none' ? 1 : 0;
  } finally {
    store.close();
  }
}
