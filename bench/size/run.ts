/**
 * Size benchmark (issue 12, goal 4): SmolLM2-135M's shape with random weights (hidden 576, 30 layers, 9 heads, 3 KV
 * heads, FFN 1536, vocabulary 49,152, tied embeddings).
 *  - training: one LoRA step (r 8, alpha 16, all seven projections: tunelab's local default; AdamW on the adapter),
 *    batch 4 × 256 tokens, tunelab against PyTorch (/usr/bin/python3) on the same shape and optimizer, torch at 1 and
 *    2 threads; step time (median of the timed steps, the first is warm-up) and peak RSS of each process;
 *  - decoding: greedy, batch 1, tunelab against node-llama-cpp (checks/llamacpp) on the GGUF tunelab exports, F32 and
 *    F16, each engine at 1 and 2 threads (best of both reported), tokens/s.
 * Each measurement runs in its own child process (peak RSS is per process). Prints a table with ratios and the load.
 * Run: node --import tsx bench/size/run.ts [--part train|decode|all] [--steps N] [--tokens N] [--threads 1,2] [--json out.json]
 */
import { spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BATCH, LORA, LR, SEQ, SMOL_135M } from './shape.ts';

const args = process.argv.slice(2);
const arg = (k: string, d: string) => {
  const i = args.indexOf(`--${k}`);
  return i >= 0 ? args[i + 1] : d;
};
const part = arg('part', 'all');
const steps = Number(arg('steps', '3'));
const tokens = Number(arg('tokens', '128'));
const threads = arg('threads', '1,2').split(',').map(Number);
const jsonOut = args.includes('--json') ? arg('json', '') : '';
const here = dirname(fileURLToPath(import.meta.url));
const load = () =>
  loadavg()
    .map((x) => x.toFixed(1))
    .join(' ');
const median = (xs: number[]) => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const gb = (b: number) => (b / 2 ** 30).toFixed(2);
const out: Record<string, unknown> = { shape: SMOL_135M, batch: BATCH, seq: SEQ, lora: LORA };

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON lines of the child processes
function child(cmd: string, argv: string[], env: NodeJS.ProcessEnv = {}): any {
  const r = spawnSync(cmd, argv, { encoding: 'utf8', env: { ...process.env, ...env }, maxBuffer: 1 << 26 });
  const line = r.stdout.trim().split('\n').pop() ?? '';
  if (r.status !== 0 || !line.startsWith('{')) {
    console.log(`  ${argv[argv.length - 2] ?? cmd} failed: ${(r.stderr || r.stdout).slice(-800)}`);
    return null;
  }
  return JSON.parse(line);
}

if (part === 'all' || part === 'train') {
  console.log(
    `training step: LoRA r${LORA.rank} on ${LORA.targetModules.join(',')}, batch ${BATCH} x ${SEQ}, AdamW; ${steps} steps (first is warm-up)`,
  );
  const rows: { peer: string; stepMs: number; minMs: number; peakRss: number; load: string; loss: number }[] = [];
  const la0 = load();
  const ours = child(process.execPath, ['--import', 'tsx', join(here, 'step.ts'), JSON.stringify({ steps })]);
  if (ours) {
    const timed = ours.ms.slice(1).length ? ours.ms.slice(1) : ours.ms;
    rows.push({
      peer: 'tunelab',
      stepMs: median(timed),
      minMs: Math.min(...timed),
      peakRss: ours.peakRss,
      load: la0,
      loss: ours.losses[0],
    });
  }
  const py = '/usr/bin/python3';
  if (existsSync(py) && spawnSync(py, ['-c', 'import torch'], { stdio: 'ignore' }).status === 0) {
    for (const th of threads) {
      const la = load();
      const t = child(
        py,
        [
          join(here, 'torch_lora.py'),
          JSON.stringify({
            ...SMOL_135M,
            batch: BATCH,
            seq: SEQ,
            steps,
            threads: th,
            rank: LORA.rank,
            alpha: LORA.alpha,
            targets: LORA.targetModules,
            lr: LR,
          }),
        ],
        { OMP_NUM_THREADS: String(th), OPENBLAS_NUM_THREADS: String(th), MKL_NUM_THREADS: String(th) },
      );
      if (t) {
        const timed = t.ms.slice(1).length ? t.ms.slice(1) : t.ms;
        rows.push({
          peer: `torch ${th} thread${th > 1 ? 's' : ''}`,
          stepMs: median(timed),
          minMs: Math.min(...timed),
          peakRss: t.peakRss,
          load: la,
          loss: t.losses[0],
        });
      }
    }
  } else console.log('  (no torch in /usr/bin/python3: training peer skipped)');
  const base = rows.find((r) => r.peer === 'tunelab');
  const torchBest = rows.filter((r) => r.peer.startsWith('torch')).sort((a, b) => a.stepMs - b.stepMs)[0];
  console.log('| peer | step ms (median) | best ms | peak RSS GiB | first loss | load 1/5/15 min |');
  console.log('|---|---|---|---|---|---|');
  for (const r of rows)
    console.log(`| ${r.peer} | ${r.stepMs.toFixed(0)} | ${r.minMs.toFixed(0)} | ${gb(r.peakRss)} | ${r.loss.toFixed(3)} | ${r.load} |`);
  if (base && torchBest)
    console.log(
      `torch best (${torchBest.peer}) / tunelab step time: ${(torchBest.stepMs / base.stepMs).toFixed(2)}x; tunelab peak RSS ${gb(base.peakRss)} GiB (goal < 2 GB), torch ${gb(torchBest.peakRss)} GiB`,
    );
  out.train = rows;
}

if (part === 'all' || part === 'decode') {
  console.log(
    `\ndecoding: greedy, batch 1, ${tokens} tokens after a 16-token prompt, threads ${threads.join(',')} (best of 2 interleaved runs each)`,
  );
  const la = load();
  const d = child(process.execPath, ['--import', 'tsx', join(here, 'decode.ts'), JSON.stringify({ tokens, threads, reps: 2 })]);
  if (d?.error) console.log(`  ${d.error}`);
  else if (d) {
    console.log('| weights | threads | tunelab tok/s | llama.cpp tok/s | ratio | same greedy tokens |');
    console.log('|---|---|---|---|---|---|');
    for (const r of d.rows)
      console.log(
        `| ${r.dtype} | ${r.threads} | ${r.tunelab} | ${r.llamacpp} | ${(r.tunelab / r.llamacpp).toFixed(2)} | ${r.sameGreedyPrefix}/${tokens} |`,
      );
    for (const dt of ['F32', 'F16']) {
      const rs = d.rows.filter((r: any) => r.dtype === dt);
      const bo = Math.max(...rs.map((r: any) => r.tunelab)),
        bt = Math.max(...rs.map((r: any) => r.llamacpp));
      console.log(`${dt}: best tunelab ${bo} tok/s / best llama.cpp ${bt} tok/s = ${(bo / bt).toFixed(2)}x`);
    }
    console.log(`load 1/5/15 min at start: ${la}, at end: ${load()}`);
    console.log('tunelab "F16" = the F16-rounded weights computed in F32 (tunelab has no half-precision decode path).');
    out.decode = d;
  }
}
if (jsonOut) writeFileSync(jsonOut, JSON.stringify(out, null, 2));
