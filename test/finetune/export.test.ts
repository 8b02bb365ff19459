// tunelab export: each trainer's config parses and passes a key/type check written from that trainer's
// documentation, the data files have the documented record shape, --gpus 2 adds an accelerate config
// with DeepSpeed ZeRO or FSDP, sky.yaml is a SkyPilot task; gguf/ollama export a locally fine-tuned arm.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync, existsSync, openSync, readSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import exportCommand from '../../src/cli/commands/export.ts';
import { loadConfig, runExperiment } from '../../src/experiment/index.ts';
import { makeTinyModel, TINY_WORDS } from './tiny.ts';

const dir = mkdtempSync(join(tmpdir(), 'tunelab-export-'));
const cfgPath = join(dir, 'tunelab.yaml');
let model: string;
before(() => {
  model = makeTinyModel(join(dir, 'tiny'));
  const rows = Array.from({ length: 40 }, (_, i) =>
    JSON.stringify({ id: `e${i}`, text: `Item: ${TINY_WORDS[i % 16]} number ${i}`, label: i % 16 < 8 ? 'fruit' : 'tool' }),
  );
  writeFileSync(join(dir, 'items.jsonl'), rows.join('\n') + '\n');
  mkdirSync(join(dir, '.tunelab'), { recursive: true });
  writeFileSync(
    cfgPath,
    `experiment: export-test
task: { data: items.jsonl, input: [text], expected: label, id: id, metric: { type: accuracy } }
split: { train: 24, dev: 8, test: 8, seed: 1 }
models:
  - { id: tiny, provider: local, path: ${model}, maxTokens: 4, temperature: 0 }
arms:
  - name: ft
    kind: finetune
    model: tiny
    method: lora
    rank: 4
    alpha: 8
    epochs: 2
    learningRate: 0.001
    batchSize: 8
    maxSeqLen: 96
    maxSteps: 2
    messages:
      - { role: system, content: "Answer with one of: fruit, tool." }
      - { role: user, content: "{{text}}" }
`,
  );
});
after(() => rmSync(dir, { recursive: true, force: true }));

const exp = async (...args: string[]) => {
  const out = join(dir, 'out', args.join('_').replace(/[^a-z0-9]+/gi, '-'));
  const code = await exportCommand(undefined, {}, { args: ['-c', cfgPath, '--arm', 'ft', '--out', out, ...args] });
  assert.equal(code, 0);
  return { out, read: (f: string) => readFileSync(join(out, f), 'utf8') };
};
const lines = (text: string) =>
  text
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));

/** Checks `obj` has each key with the given type ('string', 'number', 'boolean', 'array', 'object'); extra keys must be in `optional`. */
function checkKeys(obj: Record<string, unknown>, required: Record<string, string>, optional: Record<string, string>, what: string) {
  const all = { ...required, ...optional };
  for (const [k, t] of Object.entries(required)) assert.ok(k in obj, `${what}: missing ${k}`);
  for (const [k, v] of Object.entries(obj)) {
    assert.ok(k in all, `${what}: ${k} is not a documented key`);
    const actual = Array.isArray(v) ? 'array' : v === null ? 'null' : typeof v;
    assert.ok(all[k].split('|').includes(actual), `${what}: ${k} should be ${all[k]}, is ${actual}`);
  }
}

function checkMessages(file: string, n?: number) {
  const rows = lines(file);
  if (n !== undefined) assert.equal(rows.length, n);
  for (const r of rows) {
    assert.deepEqual(Object.keys(r), ['messages']);
    for (const m of r.messages) {
      assert.deepEqual(Object.keys(m), ['role', 'content']);
      assert.ok(['system', 'user', 'assistant'].includes(m.role));
    }
    assert.equal(r.messages.at(-1).role, 'assistant');
  }
  return rows;
}

test('axolotl: config keys from the Axolotl config reference, chat_template dataset, messages records', async () => {
  const { read } = await exp('--to', 'axolotl', '--base-model', 'Qwen/Qwen2.5-0.5B-Instruct');
  const cfg = parse(read('axolotl.yaml'));
  checkKeys(
    cfg,
    {
      base_model: 'string',
      datasets: 'array',
      sequence_len: 'number',
      micro_batch_size: 'number',
      num_epochs: 'number',
      learning_rate: 'number',
      output_dir: 'string',
      adapter: 'string',
      lora_r: 'number',
      lora_alpha: 'number',
      lora_dropout: 'number',
      lora_target_modules: 'array',
    },
    {
      chat_template: 'string',
      test_datasets: 'array',
      val_set_size: 'number',
      dataset_prepared_path: 'string',
      sample_packing: 'boolean',
      gradient_accumulation_steps: 'number',
      optimizer: 'string',
      lr_scheduler: 'string',
      warmup_ratio: 'number',
      bf16: 'string|boolean',
      gradient_checkpointing: 'boolean',
      logging_steps: 'number',
      seed: 'number',
      deepspeed: 'string',
      fsdp: 'array',
      fsdp_config: 'object',
    },
    'axolotl.yaml',
  );
  assert.equal(cfg.base_model, 'Qwen/Qwen2.5-0.5B-Instruct');
  assert.equal(cfg.adapter, 'lora');
  assert.deepEqual([cfg.lora_r, cfg.lora_alpha, cfg.num_epochs, cfg.learning_rate, cfg.sequence_len], [4, 8, 2, 0.001, 96]);
  assert.equal(cfg.micro_batch_size * cfg.gradient_accumulation_steps, 8);
  assert.deepEqual(cfg.datasets[0], {
    path: 'data/train.jsonl',
    ds_type: 'json',
    type: 'chat_template',
    field_messages: 'messages',
    roles_to_train: ['assistant'],
  });
  // the records are the ones the arm would train on (no run yet: computed from the config and split)
  const rows = checkMessages(read('data/train.jsonl'), 24);
  assert.match(rows[0].messages[0].content, /^Answer with one of: fruit, tool./);
  checkMessages(read('data/dev.jsonl'), 8);
  const sky = parse(read('sky.yaml'));
  checkKeys(
    sky,
    { resources: 'object', run: 'string', setup: 'string' },
    { name: 'string', num_nodes: 'number', workdir: 'string', envs: 'object', file_mounts: 'object' },
    'sky.yaml',
  );
  assert.equal(sky.resources.accelerators, 'H100:1');
  assert.match(sky.run, /axolotl train axolotl\.yaml/);
  assert.match(read('README.md'), /sky launch -c tunelab-ft sky\.yaml[\s\S]*rsync -Pavz tunelab-ft:sky_workdir\/outputs\/ \.\/outputs\//);
});

test('axolotl --gpus 4: DeepSpeed ZeRO-2 json + accelerate config; --strategy fsdp: FSDP settings', async () => {
  const { read } = await exp('--to', 'axolotl', '--gpus', '4', '--base-model', 'm');
  const cfg = parse(read('axolotl.yaml'));
  assert.equal(cfg.deepspeed, 'deepspeed_zero2.json');
  const ds = JSON.parse(read('deepspeed_zero2.json'));
  assert.equal(ds.zero_optimization.stage, 2);
  const acc = parse(read('accelerate.yaml'));
  checkKeys(
    acc,
    { distributed_type: 'string', num_processes: 'number', num_machines: 'number', mixed_precision: 'string' },
    {
      compute_environment: 'string',
      machine_rank: 'number',
      main_training_function: 'string',
      rdzv_backend: 'string',
      same_network: 'boolean',
      use_cpu: 'boolean',
      debug: 'boolean',
      deepspeed_config: 'object',
      fsdp_config: 'object',
    },
    'accelerate.yaml',
  );
  assert.deepEqual([acc.distributed_type, acc.num_processes], ['DEEPSPEED', 4]);
  assert.equal(parse(read('sky.yaml')).resources.accelerators, 'H100:4');
  const f = await exp(
    '--to',
    'trl',
    '--gpus',
    '2',
    '--strategy',
    'fsdp',
    '--base-model',
    'm',
    '--bucket',
    'my-bucket',
    '--accelerator',
    'A100',
  );
  const facc = parse(f.read('accelerate.yaml'));
  assert.equal(facc.distributed_type, 'FSDP');
  assert.equal(facc.fsdp_config.fsdp_sharding_strategy, 'FULL_SHARD');
  const sky = parse(f.read('sky.yaml'));
  assert.equal(sky.resources.accelerators, 'A100:2');
  assert.deepEqual(sky.file_mounts['/outputs'], { name: 'my-bucket', mode: 'MOUNT' });
  assert.match(sky.run, /trl sft --config sft\.yaml --accelerate_config accelerate\.yaml\ncp -r outputs\/\. \/outputs\//);
});

test('trl: SFTConfig/ModelConfig keys and types; dataset folder with train/validation splits of conversational records', async () => {
  const { read } = await exp('--to', 'trl', '--base-model', 'Qwen/Qwen3-0.6B');
  const cfg = parse(read('sft.yaml'));
  checkKeys(
    cfg,
    {
      model_name_or_path: 'string',
      dataset_name: 'string',
      output_dir: 'string',
      num_train_epochs: 'number',
      learning_rate: 'number',
      per_device_train_batch_size: 'number',
      max_length: 'number',
      use_peft: 'boolean',
      lora_r: 'number',
      lora_alpha: 'number',
      lora_dropout: 'number',
      lora_target_modules: 'array',
    },
    {
      dtype: 'string',
      dataset_train_split: 'string',
      dataset_test_split: 'string',
      eval_strategy: 'string',
      gradient_accumulation_steps: 'number',
      assistant_only_loss: 'boolean',
      gradient_checkpointing: 'boolean',
      lr_scheduler_type: 'string',
      warmup_ratio: 'number',
      bf16: 'boolean',
      logging_steps: 'number',
      save_strategy: 'string',
      seed: 'number',
      report_to: 'string',
    },
    'sft.yaml',
  );
  assert.deepEqual([cfg.dataset_name, cfg.dataset_train_split, cfg.dataset_test_split], ['data', 'train', 'validation']);
  checkMessages(read('data/train.jsonl'), 24);
  checkMessages(read('data/validation.jsonl'), 8);
  assert.match(read('README.md'), /trl sft --config sft\.yaml/);
});

test('llama-factory: train.yaml keys from its examples, dataset_info.json sharegpt entry with column and tag mapping', async () => {
  const { read } = await exp('--to', 'llama-factory', '--base-model', 'Qwen/Qwen2.5-0.5B-Instruct');
  const cfg = parse(read('train.yaml'));
  checkKeys(
    cfg,
    {
      model_name_or_path: 'string',
      stage: 'string',
      do_train: 'boolean',
      finetuning_type: 'string',
      dataset: 'string',
      template: 'string',
      cutoff_len: 'number',
      output_dir: 'string',
      per_device_train_batch_size: 'number',
      gradient_accumulation_steps: 'number',
      learning_rate: 'number',
      num_train_epochs: 'number',
      lora_rank: 'number',
      lora_target: 'string',
    },
    {
      lora_alpha: 'number',
      lora_dropout: 'number',
      dataset_dir: 'string',
      eval_dataset: 'string',
      eval_strategy: 'string',
      per_device_eval_batch_size: 'number',
      overwrite_cache: 'boolean',
      logging_steps: 'number',
      save_strategy: 'string',
      plot_loss: 'boolean',
      lr_scheduler_type: 'string',
      warmup_ratio: 'number',
      bf16: 'boolean',
      seed: 'number',
      report_to: 'string',
      deepspeed: 'string',
    },
    'train.yaml',
  );
  assert.deepEqual(
    [cfg.stage, cfg.finetuning_type, cfg.template, cfg.dataset, cfg.dataset_dir],
    ['sft', 'lora', 'qwen', 'tunelab_train', 'data'],
  );
  const info = JSON.parse(read('data/dataset_info.json'));
  assert.deepEqual(info.tunelab_train, {
    file_name: 'train.jsonl',
    formatting: 'sharegpt',
    columns: { messages: 'messages' },
    tags: { role_tag: 'role', content_tag: 'content', user_tag: 'user', assistant_tag: 'assistant', system_tag: 'system' },
  });
  checkMessages(read('data/train.jsonl'), 24);
  assert.match(read('README.md'), /llamafactory-cli train train\.yaml/);
});

test('mlx-lm: lora_config.yaml keys of mlx_lm.lora, data dir with train/valid JSONL', async () => {
  const { read, out } = await exp('--to', 'mlx-lm', '--base-model', 'mlx-community/Qwen2.5-0.5B-Instruct-4bit');
  const cfg = parse(read('lora_config.yaml'));
  checkKeys(
    cfg,
    {
      model: 'string',
      train: 'boolean',
      data: 'string',
      fine_tune_type: 'string',
      batch_size: 'number',
      iters: 'number',
      learning_rate: 'number',
      adapter_path: 'string',
    },
    {
      seed: 'number',
      num_layers: 'number',
      val_batches: 'number',
      steps_per_report: 'number',
      steps_per_eval: 'number',
      save_every: 'number',
      max_seq_length: 'number',
      grad_checkpoint: 'boolean',
      lora_parameters: 'object',
    },
    'lora_config.yaml',
  );
  checkKeys(cfg.lora_parameters, { rank: 'number', scale: 'number', dropout: 'number' }, { keys: 'array' }, 'lora_parameters');
  assert.equal(cfg.iters, 3 * 2, '24 records / batch 8 × 2 epochs');
  checkMessages(read('data/train.jsonl'), 24);
  checkMessages(read('data/valid.jsonl'), 8);
  assert.ok(!existsSync(join(out, 'sky.yaml')), 'MLX runs on Apple silicon: no cloud task');
});

test('unsloth: a script reading a JSON of its settings', async () => {
  const { read } = await exp('--to', 'unsloth', '--base-model', 'unsloth/Qwen2.5-0.5B-Instruct');
  const cfg = JSON.parse(read('unsloth_config.json'));
  checkKeys(
    cfg,
    {
      base_model: 'string',
      max_seq_length: 'number',
      method: 'string',
      r: 'number',
      lora_alpha: 'number',
      target_modules: 'array',
      num_train_epochs: 'number',
      learning_rate: 'number',
      per_device_train_batch_size: 'number',
      output_dir: 'string',
    },
    { lora_dropout: 'number', gradient_accumulation_steps: 'number', seed: 'number' },
    'unsloth_config.json',
  );
  const py = read('train_unsloth.py');
  for (const k of Object.keys(cfg)) assert.ok(py.includes(`cfg["${k}"]`), `the script reads ${k}`);
  assert.match(py, /FastLanguageModel\.get_peft_model/);
  checkMessages(read('data/train.jsonl'), 24);
});

test(
  "gguf and ollama: after a run, the locally fine-tuned arm as a GGUF file and a Modelfile; the export uses the run's train.jsonl",
  { timeout: 120_000 },
  async () => {
    const r = await runExperiment(loadConfig(cfgPath));
    assert.equal(r.arms[0].status, 'done', r.arms[0].error);
    const armFiles = join(r.runDir, 'arms', 'ft');
    checkMessages(readFileSync(join(armFiles, 'train.jsonl'), 'utf8'), 24);
    const { out, read } = await exp('--to', 'ollama');
    const fd = openSync(join(out, 'model.gguf'), 'r');
    const magic = Buffer.alloc(4);
    readSync(fd, magic, 0, 4, 0);
    closeSync(fd);
    assert.equal(magic.toString('latin1'), 'GGUF');
    const mf = read('Modelfile');
    assert.match(mf, /^FROM \.\/model\.gguf\nTEMPLATE """\{\{- range \.Messages \}\}<\|im_start\|>/);
    assert.match(mf, /PARAMETER stop "<\|im_end\|>"/);
    const a = await exp('--to', 'axolotl', '--base-model', 'x');
    assert.equal(
      a.read('data/train.jsonl'),
      readFileSync(join(armFiles, 'train.jsonl'), 'utf8'),
      'the exported data are exactly what the arm trained on',
    );
  },
);
