/**
 * Worker-thread side of EngineWorker (worker-client.ts): holds models, trains and generates off the
 * caller's event loop. Messages: {id, op, ...}; replies: {id, ok, value | error} and {id, progress}.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { configureRuntime } from './runtime.ts';
import { train, type LlamaModel, type TrainOptions } from './train.ts';
import { Generator, type GenerateOptions } from './generate.ts';
import { tokenizerFromJSON } from './bytetok.ts';
import { mergeLora } from './llama.ts';
import type { LoraAdapter } from './types.ts';


const models = new Map<string, LlamaModel>();
const aborts = new Map<number, AbortController>();

function cloneModel(m: LlamaModel): LlamaModel {
  return { config: m.config, weights: new Map([...m.weights].map(([k, t]) => [k, { shape: t.shape, data: Float32Array.from(t.data) }])) };
}

async function handle(msg: any): Promise<unknown> {
  switch (msg.op) {
    case 'load': {
      const m = msg.model as LlamaModel;
      // an adapter given at load time is merged once (fast inference under that id)
      models.set(msg.modelId, msg.adapter ? { config: m.config, weights: mergeLora(m.weights, msg.adapter) } : m);
      return true;
    }
    case 'unload':
      return models.delete(msg.modelId);
    case 'train': {
      const base = models.get(msg.modelId);
      if (!base) throw new Error(`no model ${msg.modelId} loaded in the worker`);
      const opts = msg.opts as TrainOptions;
      const model = opts.lora ? base : cloneModel(base);
      const ac = new AbortController();
      aborts.set(msg.id, ac);
      try {
        const r = await train(model, msg.records, { ...opts, signal: ac.signal }, (p) => parentPort!.postMessage({ id: msg.id, progress: p }));
        if (msg.outputId && !opts.lora) models.set(msg.outputId, model);
        const { model: _m, ...rest } = r;
        return { ...rest, weights: opts.lora ? undefined : model.weights };
      } finally { aborts.delete(msg.id); }
    }
    case 'cancel':
      aborts.get(msg.target)?.abort();
      return true;
    case 'generate':
    case 'score': {
      const m = models.get(msg.modelId);
      if (!m) throw new Error(`no model ${msg.modelId} loaded in the worker`);
      const gen = new Generator(m, { adapter: msg.adapter as LoraAdapter | undefined });
      if (msg.op === 'score') return gen.scoreCandidates(msg.prompts, msg.candidates);
      const o = { ...(msg.opts as GenerateOptions) };
      if (msg.tokenizerJson) o.tokenizer = tokenizerFromJSON(msg.tokenizerJson);
      if (msg.stream) o.onToken = (row, token) => parentPort!.postMessage({ id: msg.id, token: { row, token } });
      return gen.generate(msg.prompts, o);
    }
    default:
      throw new Error(`unknown op ${msg.op}`);
  }
}

if (parentPort && workerData?.tunelabEngineWorker) {
  if (workerData.threads) configureRuntime({ threads: workerData.threads });
  parentPort.on('message', (msg: any) => {
    if (msg.op === 'cancel') { void handle(msg); return; }
    handle(msg).then(
      (value) => parentPort!.postMessage({ id: msg.id, ok: true, value }),
      (e: unknown) => parentPort!.postMessage({ id: msg.id, ok: false, error: e instanceof Error ? e.message : String(e) }),
    );
  });
}
