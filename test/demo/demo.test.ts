// A trimmed `tunelab demo` end to end: the demo's config with tiny sizes and a tiny model standing in
// for the built-in one; every arm runs, the report has every arm with metric, interval, cost, latency and
// the fine-tuned arms' training time; the fine-tuned weights differ from the base.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import YAML from 'yaml';
import { demoConfigPath, runDemo } from '../../src/cli/commands/demo.ts';
import { loadHfModel } from '../../src/engine/index.ts';
import { makeTinyModel } from '../finetune/tiny.ts';

test(
  'trimmed demo: every arm (prompt, optimized, LoRA, full, fine-tune + prompt), report with training time, fine-tuned weights differ',
  { timeout: 240_000 },
  async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tunelab-demo-'));
    const prevEnv = process.env.TUNELAB_BUILTIN_MODEL;
    try {
      const tiny = makeTinyModel(join(dir, 'tiny'), { hidden: 32 });
      process.env.TUNELAB_BUILTIN_MODEL = tiny;
      const cfg = YAML.parse(readFileSync(demoConfigPath(), 'utf8'));
      cfg.task.data = { builtin: 'spamassassin', maxChars: 80, limit: 60 };
      cfg.split = { train: 30, dev: 10, test: 16, seed: 7 };
      for (const a of cfg.arms)
        if (a.kind.startsWith('finetune')) Object.assign(a, { trainExamples: 16, devExamples: 8, epochs: 1, maxSeqLen: 64 });
      for (const a of cfg.arms) if (a.kind === 'optimize') a.budget = { calls: 20 };
      cfg.output = join(dir, 'out');
      const file = join(dir, 'tunelab.yaml');
      writeFileSync(file, YAML.stringify(cfg));
      const res = await runDemo({ config: file, out: join(dir, 'out'), silent: true });
      assert.equal(res.code, 0);
      const arms = res.report.arms as any[];
      assert.deepEqual(
        arms.map((a) => a.name).filter((n: string) => n !== 'majority' && n !== 'classical'),
        cfg.arms.map((a: any) => a.name),
      );
      assert.ok(
        arms.some((a) => a.name === 'majority') && arms.some((a) => a.name === 'classical'),
        'classification runs carry the majority and classical baselines',
      );
      assert.ok(arms.some((a) => a.kind === 'finetune' && a.name === 'lora') && arms.some((a) => a.kind === 'finetune+prompt'));
      for (const a of arms) {
        assert.equal(a.n ?? a.metric?.n ?? 16, 16, `arm ${a.name} evaluated on the whole test split`);
      }
      const json = JSON.stringify(res.report);
      assert.match(json, /"seconds":/);
      assert.ok(existsSync(res.reports.html));
      const html = readFileSync(res.reports.html, 'utf8');
      for (const a of arms) assert.ok(html.includes(a.name), `html names ${a.name}`);
      for (const a of arms.filter((x) => x.kind.startsWith('finetune')))
        assert.ok(a.training?.seconds > 0, `${a.name} reports its training time`);
      // lora and lora+few-shot share one training (same records and settings); its weights differ from the base
      const ftDirs = new Set(arms.filter((a) => a.name.startsWith('lora')).map((a) => a.training?.modelId ?? a.modelId));
      assert.equal(ftDirs.size, 1, JSON.stringify([...ftDirs]));
      const ftDir = String([...ftDirs][0]).replace(/^local:/, '');
      const q = 'model.layers.0.mlp.down_proj.weight';
      const base = loadHfModel(tiny).weights.get(q)!.data,
        ft = loadHfModel(ftDir).weights.get(q)!.data;
      assert.ok(base.some((x, i) => x !== ft[i]));
    } finally {
      if (prevEnv === undefined) delete process.env.TUNELAB_BUILTIN_MODEL;
      else process.env.TUNELAB_BUILTIN_MODEL = prevEnv;
      rmSync(dir, { recursive: true, force: true });
    }
  },
);
