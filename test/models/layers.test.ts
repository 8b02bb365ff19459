// createModel as composed layers: typed capabilities forwarded (info, stream, finishReason, scoreCandidates,
// embed), wrapModel keeps what it does not override, CPU time priced instead of latency, extra layers.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createModel, registerProvider, wrapModel, composeModel, costOf, type ChatModel, type ChatResponse, type ResponseCache } from '../../src/models/index.ts';

const user = (content: string) => ({ messages: [{ role: 'user' as const, content }] });

registerProvider('test-caps', (cfg) => ({
  id: cfg.id,
  endpoint: 'caps://',
  async complete(req) {
    return { text: `c:${req.messages.at(-1)!.content}`, usage: { input: 10, output: 2 }, latencyMs: 0, costUsd: 0, finishReason: 'length', cpuMs: 1800 };
  },
  async stream(req, onDelta) {
    const text = `s:${req.messages.at(-1)!.content}`;
    for (const ch of text) onDelta(ch);
    return { text, usage: { input: 10, output: text.length }, latencyMs: 0, costUsd: 0, finishReason: 'stop' };
  },
  async scoreCandidates(req, cands) {
    return cands.map((c) => (c === 'b' ? 0 : -1) + (req.temperature ?? 0));
  },
  async embed(texts) {
    return texts.map((t) => [t.length]);
  },
}));

describe('models: layers and capabilities', () => {
  test('info, stream, finishReason, scoreCandidates and embed come through createModel typed', async () => {
    const calls: string[] = [];
    const m = createModel({ id: 'caps', provider: 'test-caps', temperature: 0.5, price: { input: 0, output: 0, perHour: 3.6 } }, { onCall: (c) => calls.push(`${c.attempt}:${c.ok}`) });
    assert.equal(m.info.provider, 'test-caps');
    assert.equal(m.info.endpoint, 'caps://');
    const r = await m.complete(user('x'));
    assert.equal(r.finishReason, 'length');
    assert.equal(r.cpuMs, 1800);
    // perHour charges CPU time (1.8 s of 1 h at $3.6) rather than the (near zero) latency
    assert.ok(Math.abs(r.costUsd - 0.0018) < 1e-12, String(r.costUsd));
    let streamed = '';
    const s = await m.stream!(user('hey'), (d) => (streamed += d));
    assert.equal(streamed, 's:hey');
    assert.equal(s.text, 's:hey');
    assert.equal(s.finishReason, 'stop');
    // the config's temperature reaches scoreCandidates (effective request)
    assert.deepEqual(await m.scoreCandidates!(user('q'), ['a', 'b']), [-0.5, 0.5]);
    assert.deepEqual(await m.embed!(['abc']), [[3]]);
    assert.deepEqual(calls, ['1:true', '1:true']);
  });

  test('a cache hit streams the whole text once and reports attempt 0', async () => {
    const map = new Map<string, ChatResponse>();
    const cache: ResponseCache = { get: (k) => map.get(k), put: (k, _m, r) => void map.set(k, r) };
    const m = createModel({ id: 'caps2', provider: 'test-caps' }, { cache });
    await m.stream!(user('z'), () => {});
    let streamed = '';
    const again = await m.stream!(user('z'), (d) => (streamed += d));
    assert.equal(again.cached, true);
    assert.equal(streamed, 's:z');
  });

  test('wrapModel forwards every capability it does not override, and adds none', async () => {
    const bare: ChatModel = { id: 'b', complete: async () => ({ text: 'b', usage: { input: 0, output: 0 }, latencyMs: 0, costUsd: 0 }) };
    const w = wrapModel(bare, {});
    assert.equal(w.stream, undefined);
    assert.equal(w.embed, undefined);
    assert.equal(w.info, undefined);
    const m = createModel({ id: 'caps3', provider: 'test-caps' });
    const seen: unknown[] = [];
    const withMeta = wrapModel(m, { complete: (r, o) => m.complete(r, { ...o, meta: { arm: 'a', ...o?.meta } }) });
    assert.equal(withMeta.info, m.info);
    assert.ok(withMeta.stream && withMeta.embed && withMeta.scoreCandidates);
    const layered = composeModel(withMeta, (inner) => wrapModel(inner, { complete: async (r, o) => (seen.push(o?.meta), inner.complete(r, o)) }));
    assert.equal((await layered.complete(user('q'), { meta: { exampleId: 'e1' } })).text, 'c:q');
    assert.deepEqual(seen, [{ exampleId: 'e1' }]);
  });

  test('deps.layers sit inside the cache and see the request hash', async () => {
    const hashes: string[] = [];
    const m = createModel(
      { id: 'caps4', provider: 'test-caps' },
      { layers: [(ctx) => (inner) => wrapModel(inner, { complete: (r, o) => (hashes.push(`${ctx.id}:${o?.requestHash?.length}`), inner.complete(r, o)) })] },
    );
    await m.complete(user('q'));
    assert.deepEqual(hashes, ['caps4:64']);
  });

  test('costOf: perHour charges CPU time when known, else latency', () => {
    const p = { input: 1, output: 2, perHour: 36 };
    assert.equal(costOf(p, { input: 1e6, output: 0 }, 0), 1);
    assert.ok(Math.abs(costOf(p, { input: 0, output: 0 }, 100_000, 1000) - 0.01) < 1e-12);
    assert.ok(Math.abs(costOf(p, { input: 0, output: 0 }, 1000) - 0.01) < 1e-12);
  });
});
