// The onnxruntime sessions kept alive are bounded: per group (GROUP_LIMITS), released on demand
// (releaseSessions, what the training worker does before it ends), and closed-choice scoring over prompts of
// every length compiles a bounded number of shapes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileCached, createModel, Generator, Graph, GROUP_LIMITS, releaseSessions, sessionStats } from '../../src/engine/index.ts';

const tiny = (k: number) => () => {
  const g = new Graph('float32');
  g.output('y', g.add(g.input('x', [2]), k));
  return g;
};

test('a group keeps at most its limit of sessions; an evicted session still held by a caller recompiles; releaseSessions empties the cache', async () => {
  await releaseSessions();
  GROUP_LIMITS['bound-test'] = 2;
  try {
    const before = sessionStats();
    const held = await compileCached('bound-test|0', tiny(0), 'bound-test');
    for (let k = 1; k < 5; k++) await compileCached(`bound-test|${k}`, tiny(k), 'bound-test');
    const s = sessionStats();
    assert.equal(s.byGroup['bound-test'], 2);
    assert.equal(s.compiled - before.compiled, 5);
    assert.equal(s.evicted - before.evicted, 3);
    // the evicted session was released, and a run through it compiles it again
    const out = await held.run({ x: new Float32Array([1, 2]) });
    assert.deepEqual([...(out.y as Float32Array)], [1, 2]);
    await releaseSessions();
    assert.equal(sessionStats().alive, 0);
    const again = await compileCached('bound-test|3', tiny(3), 'bound-test');
    assert.deepEqual([...((await again.run({ x: new Float32Array([1, 2]) })).y as Float32Array)], [4, 5]);
  } finally {
    delete GROUP_LIMITS['bound-test'];
    await releaseSessions();
  }
});

test('scoring prompts of every length up to the context compiles few shapes (continuations share cache lengths rounded to 64)', async () => {
  await releaseSessions();
  const cfg = {
    vocab_size: 64,
    hidden_size: 16,
    intermediate_size: 32,
    num_hidden_layers: 1,
    num_attention_heads: 2,
    num_key_value_heads: 1,
    max_position_embeddings: 512,
    tie_word_embeddings: true,
  };
  const gen = new Generator(createModel(cfg, { seed: 3 }));
  const before = sessionStats().compiled;
  // one prompt at a time, as a local model's closed-choice call does: 2 candidates of 2 tokens
  for (let n = 1; n <= 500; n += 7)
    await gen.scoreCandidates(
      [Array.from({ length: n }, (_, i) => (i * 5) % 64)],
      [
        [3, 4],
        [5, 4],
      ],
    );
  const compiled = sessionStats().compiled - before;
  // prefill: one per padded prompt length (16..128 by 16, then by 64 to 512: 14); continuation: one per 64 (8)
  assert.ok(compiled <= 22, `${compiled} sessions compiled`);
  assert.ok(sessionStats().byGroup.decode <= GROUP_LIMITS.decode);
  await releaseSessions();
});
