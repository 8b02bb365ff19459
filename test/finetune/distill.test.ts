// kind: distill — teacher = a prompt arm on a scripted HTTP model, student = the built-in model (tiny
// training): the student trains on the teacher's answers, and its one-off cost includes the teacher's calls.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig, runExperiment } from '../../src/experiment/index.ts';
import { startMockOpenAI, defaultRespond } from '../helpers/mock-openai-server.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const dir = mkdtempSync(join(tmpdir(), 'tunelab-distill-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test(
  'distill: a prompt-arm teacher labels train, the built-in model learns from it; teacher calls in the one-off cost',
  { timeout: 120_000 },
  async () => {
    const server = await startMockOpenAI();
    try {
      writeFileSync(join(dir, 'messages.jsonl'), readFileSync(join(ROOT, 'examples/spam-mini/messages.jsonl'), 'utf8'));
      mkdirSync(join(dir, '.tunelab'), { recursive: true });
      writeFileSync(
        join(dir, 'tunelab.yaml'),
        `experiment: distill-test
task: { data: messages.jsonl, input: [subject, text], expected: label, id: id, metric: { type: accuracy } }
split: { train: 24, dev: 8, test: 10, seed: 3 }
models:
  - { id: big, provider: openai-compatible, baseURL: ${server.baseURL}, model: big-model, price: { input: 2.5, output: 10 }, retries: 1 }
  - { id: builtin, provider: local, path: builtin, temperature: 0, maxTokens: 4 }
arms:
  - name: teacher
    kind: prompt
    model: big
    messages:
      - { role: system, content: "Is this email spam or ham? Answer spam or ham." }
      - { role: user, content: "Subject: {{subject}}\\n\\n{{text}}" }
  - name: student
    kind: distill
    teacher: teacher
    model: builtin
    epochs: 1
    batchSize: 8
    maxSteps: 2
    maxSeqLen: 96
    devExamples: 4
    messages:
      - { role: system, content: "Classify the email as spam or ham. Answer with one of: spam, ham." }
      - { role: user, content: "Email: {{text}}" }
concurrency: 4
`,
      );
      const before = server.count();
      const r = await runExperiment(loadConfig(join(dir, 'tunelab.yaml')));
      assert.equal(r.arms.find((a) => a.name === 'student')?.status, 'done', r.arms.find((a) => a.name === 'student')?.error);
      // the teacher answered the 24 train examples while the student was prepared, plus its own 10 test examples
      assert.equal(server.count() - before, 24 + 10);
      const rep = r.report.arms.find((a: any) => a.name === 'student') as any;
      const d = rep.notes.distill;
      assert.equal(d.teacher, 'teacher');
      assert.equal(d.teacherCalls, 24);
      assert.ok(d.teacherCostUsd > 0);
      assert.ok(d.teacherCostPerRequestUsd > 0 && d.teacherLatencyMsMean >= 0);
      assert.ok(d.teacherAgreementWithGold > 0 && d.teacherAgreementWithGold <= 1);
      // one-off cost of the student = its preparation spend (teacher calls included) + its training
      assert.ok(rep.spent.costUsd >= d.teacherCostUsd - 1e-12, "teacher calls are in the student's preparation cost");
      assert.equal(rep.spent.calls, 24);
      assert.ok(Math.abs(d.oneOffCostUsd - (rep.spent.costUsd + rep.training.costUsd)) < 1e-12);
      // the student trained on the teacher's answers, not on the gold labels
      const rows = readFileSync(join(r.runDir, 'arms', 'student', 'train.jsonl'), 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l));
      assert.equal(rows.length, 24);
      for (const row of rows) {
        const text = row.messages[1].content.replace(/^Email: /, '');
        const teacherSays = server.requests.find((q) => q.messages.at(-1).content.endsWith(text));
        assert.ok(teacherSays, 'the teacher was asked this example');
        assert.equal(row.messages.at(-1).content, defaultRespond(teacherSays));
      }
    } finally {
      await server.close();
    }
  },
);
