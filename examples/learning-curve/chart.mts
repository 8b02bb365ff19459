// Writes the learning-curve chart of a finished run as a standalone SVG (the same chart as report.html's), and prints
// the curve's points and its crossover sentence.
//   node --import tsx examples/learning-curve/chart.mts [run folder or report.json] [out.svg]
// Default: the newest run under examples/learning-curve/.tunelab/runs, written to examples/learning-curve/curve.svg.
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { curveChart } from '../../src/report/decision-html.ts';
import type { RunReport } from '../../src/report/types.ts';

const here = dirname(fileURLToPath(import.meta.url));
let src = process.argv[2];
if (!src) {
  const runs = join(here, '.tunelab', 'runs');
  const dirs = existsSync(runs) ? readdirSync(runs).filter((d) => existsSync(join(runs, d, 'report.json'))) : [];
  if (!dirs.length)
    throw new Error(`no finished run with a report.json under ${runs}: run tunelab run examples/learning-curve/tunelab.yaml first`);
  src = join(runs, dirs.sort().at(-1)!);
}
const file = statSync(src).isDirectory() ? join(src, 'report.json') : src;
const report = JSON.parse(readFileSync(file, 'utf8')) as RunReport;
const d = report.decision;
if (!d?.curves.length) throw new Error(`${file} has no learning curve`);
const out = process.argv[3] ?? join(here, 'curve.svg');
const svg = /<svg[\s\S]*?<\/svg>/.exec(curveChart(d))?.[0];
if (!svg) throw new Error('no chart rendered');
const title = `<title>${d.curves[0].crossover?.sentence ?? `Learning curve: ${d.curves[0].arm}`}</title>`.replace(/&/g, '&amp;');
writeFileSync(out, svg.replace(/(<svg[^>]*>)/, `$1${title}`) + '\n');
for (const c of d.curves) {
  console.log(`${c.arm} (${c.axis}):`);
  for (const p of c.points)
    console.log(
      `  ${String(p.x).padStart(5)}  ${p.value.toFixed(3)} [${p.ci[0].toFixed(3)}, ${p.ci[1].toFixed(3)}]` +
        (p.diff !== undefined
          ? `  vs best prompt ${p.diff >= 0 ? '+' : ''}${p.diff.toFixed(3)} [${p.diffCi![0].toFixed(3)}, ${p.diffCi![1].toFixed(3)}]`
          : ''),
    );
  if (c.crossover) console.log(`  ${c.crossover.sentence}`);
}
console.log(`wrote ${out}`);
