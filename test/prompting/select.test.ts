import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { armKind } from '../../src/experiment/arms/index.ts';
import { Bm25Selector, Evaluator, TemplateProgram } from '../../src/prompting/index.ts';
import { ctxFor, exactScorer, fakeModel } from './fakes.ts';
import { ANIMALS, COLORS, respondWorld, worldExamples } from './world.ts';

const train = worldExamples(60, 'tr');
const dev = worldExamples(40, 'dv');
const program = new TemplateProgram({ messages: [{ role: 'user', content: '{{text}}' }], labels: ['alpha', 'beta'] });
const word = (t: string) => [...COLORS, ...ANIMALS].find((w) => t.includes(` ${w} `));

/** A fake embedding: one dimension per key word, one for the place. */
function embedText(t: string): number[] {
  const v: number[] = [...COLORS, ...ANIMALS].map((w) => (t.includes(` ${w} `) ? 1 : 0));
  v.push((t.length % 7) / 70);
  return v;
}

test('bm25: nearest neighbours share the key word; similar-last puts the best match last; MMR diversifies', () => {
  const q = dev[0];
  const sel = new Bm25Selector(train, { strategy: 'bm25', k: 4, order: 'as-selected' }, 1, program);
  const ranked = sel.select(q);
  assert.ok(
    ranked.every((d) => word(d.input.text as string) === word(q.input.text as string)),
    'top 4 all share the key word',
  );
  const last = new Bm25Selector(train, { strategy: 'bm25', k: 4 }, 1, program).select(q);
  assert.deepEqual(
    last.map((d) => d.id),
    ranked.map((d) => d.id).reverse(),
  );
  const div = new Bm25Selector(train, { strategy: 'bm25', k: 4, mmr: 0.3, order: 'as-selected' }, 1, program).select(q);
  assert.equal(div[0].id, ranked[0].id, 'MMR keeps the most relevant first');
  const distinct = (ds: typeof ranked) => new Set(ds.map((d) => word(d.input.text as string))).size;
  assert.ok(distinct(div) > distinct(ranked), `mmr ${distinct(div)} distinct words vs ${distinct(ranked)}`);
  const budget = new Bm25Selector(train, { strategy: 'bm25', k: 4, tokenBudget: 30 }, 1, program).select(q);
  assert.ok(budget.length >= 1 && budget.length < 4);
  assert.notEqual(new Bm25Selector(train, { strategy: 'bm25', k: 3 }, 1, program).describe(), undefined);
});

test('fewshot embedding kNN: pool embedded once, demos inserted per request; beats zero-shot', async () => {
  let embedCalls = 0;
  const m = fakeModel('emb', respondWorld as any, {
    async embed(texts: string[]) {
      embedCalls++;
      return texts.map(embedText);
    },
  });
  const k = armKind('fewshot')!;
  const arm = k.create(k.schema.parse({ name: 'knn', kind: 'fewshot', model: 'emb', strategy: 'embedding', k: 2 }));
  const pred = await arm.prepare(ctxFor({ emb: m }, train, dev, { labels: ['alpha', 'beta'] }));
  assert.equal(m.calls.length, 0);
  assert.equal(embedCalls, 1, 'the 60-example pool fits one embedding batch');
  const r = await new Evaluator(pred.model, exactScorer).score(pred.prompt, dev);
  assert.equal(r.score, 1);
  const sent = m.calls[0].messages;
  assert.equal(sent.length, 1 + 2 * 2 + 1, 'system + 2 demo pairs + question');
  assert.equal(word(sent[1].content), word(sent.at(-1)!.content));
  const noEmbed = fakeModel('plain', respondWorld as any);
  await assert.rejects(
    k
      .create(k.schema.parse({ name: 'x', kind: 'fewshot', model: 'plain', strategy: 'embedding' }))
      .prepare(ctxFor({ plain: noEmbed }, train, dev)),
    /no embeddings/,
  );
});

test('optimizers are deterministic by seed: same seed, same frozen prompt; calls counted in-process match spent', async () => {
  const run = async (seed: number) => {
    const m = fakeModel('mock', respondWorld as any);
    const k = armKind('optimize')!;
    const pred = await k
      .create(k.schema.parse({ name: 'b', kind: 'optimize', model: 'mock', optimizer: 'mipro', budget: { calls: 120 }, seed }))
      .prepare(ctxFor({ mock: m }, train, dev, { labels: ['alpha', 'beta'], workDir: mkdtempSync(join(tmpdir(), 'tl-det-')) }));
    assert.equal(pred.spent.calls, m.calls.length);
    assert.ok(m.calls.length <= 120);
    return pred;
  };
  const a = await run(3),
    b = await run(3);
  assert.equal(a.prompt.hash, b.prompt.hash);
  assert.deepEqual(a.notes!.candidates, b.notes!.candidates);
});

test('optimize and variants arms restore from their artifact without calls (resumed runs)', async () => {
  const m = fakeModel('mock', respondWorld as any);
  const c = ctxFor({ mock: m }, train, dev, { labels: ['alpha', 'beta'], workDir: mkdtempSync(join(tmpdir(), 'tl-res-')) });
  for (const cfg of [
    { name: 'o', kind: 'optimize', model: 'mock', optimizer: 'instructions', budget: { calls: 60 }, rounds: 1 },
    {
      name: 'v',
      kind: 'variants',
      model: 'mock',
      budget: { calls: 60 },
      vary: {
        selection: [
          { strategy: 'random', k: 2 },
          { strategy: 'bm25', k: 2 },
        ],
      },
    },
  ]) {
    const k = armKind(cfg.kind)!;
    const arm = k.create(k.schema.parse(cfg));
    const pred = await arm.prepare(c);
    const artifact = JSON.parse(JSON.stringify(pred.artifact));
    const before = m.calls.length;
    const back = await arm.restore!(c, artifact);
    assert.equal(m.calls.length, before, `${cfg.kind}: restore made no calls`);
    assert.equal(back.prompt.hash, pred.prompt.hash);
    assert.deepEqual(back.prompt.render(dev[1]), pred.prompt.render(dev[1]));
  }
});
