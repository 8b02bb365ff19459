// `tunelab export --arm NAME --to TARGET`: a fine-tune arm's data and settings as a recipe for a GPU
// trainer (axolotl, trl, llama-factory, mlx-lm, unsloth; accelerate + DeepSpeed/FSDP for --gpus > 1; a
// SkyPilot task; a README with the launch commands), or its trained model as GGUF (gguf) plus an Ollama
// Modelfile (ollama).
import { parseArgs } from 'node:util';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { InputError } from '../../core/index.ts';

const HELP = `Usage: tunelab export --arm NAME --to TARGET [options]

Targets:
  axolotl | trl | llama-factory | mlx-lm | unsloth
        the arm's training records in the trainer's format, a config with the arm's settings, an
        accelerate config (DeepSpeed ZeRO or FSDP) for --gpus > 1, a SkyPilot task (sky.yaml) and a
        README.md with the exact commands
  gguf | ollama
        the arm's fine-tuned model (LoRA merged) as model.gguf; ollama adds a Modelfile with the chat template

Options:
  --arm <name>           a finetune / finetune+prompt / distill arm of the config
  --to <target>          see above
  -c, --config <file>    experiment config (default tunelab.yaml)
  --out <dir>            output folder (default export/<arm>-<target>)
  --gpus <n>             GPUs for the trainer (default 1)
  --strategy <s>         zero2 | zero3 | fsdp (default: zero2 for LoRA, zero3 for full) when --gpus > 1
  --base-model <id>      Hugging Face id or path of the base model (default: the arm's baseModel or model)
  --accelerator <gpu>    GPU type for SkyPilot (default H100)
  --bucket <name>        a bucket SkyPilot mounts at /outputs (the adapter comes back there)
  --run <id>             gguf/ollama: the run whose trained model to export (default: the latest)
  -h, --help
`;

export default async function exportCommand(_first: unknown, _opts: unknown, cmd?: { args?: string[] }): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: cmd?.args ?? [],
      options: {
        arm: { type: 'string' },
        to: { type: 'string' },
        config: { type: 'string', short: 'c' },
        out: { type: 'string' },
        gpus: { type: 'string' },
        strategy: { type: 'string' },
        'base-model': { type: 'string' },
        accelerator: { type: 'string' },
        bucket: { type: 'string' },
        run: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      allowPositionals: false,
    }));
  } catch (e) {
    throw new InputError('tunelab export', `${(e as Error).message} (see tunelab export --help)`);
  }
  if (values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  if (!values.arm) throw new InputError('--arm', 'required: the name of a fine-tune arm');
  const targets = ['axolotl', 'trl', 'llama-factory', 'mlx-lm', 'unsloth', 'gguf', 'ollama'];
  if (!values.to || !targets.includes(values.to)) throw new InputError('--to', `one of ${targets.join(', ')}`);
  const gpus = values.gpus === undefined ? 1 : Number(values.gpus);
  if (!Number.isInteger(gpus) || gpus < 1) throw new InputError('--gpus', `expected a positive integer, got "${values.gpus}"`);
  if (values.strategy && !['zero2', 'zero3', 'fsdp'].includes(values.strategy))
    throw new InputError('--strategy', 'one of zero2, zero3, fsdp');

  const { loadConfig, prepareExperiment, openRunStore, storePath } = await import('../../experiment/index.ts');
  const configPath = resolve(values.config ?? 'tunelab.yaml');
  const loaded = loadConfig(configPath);
  const idx = loaded.config.arms.findIndex((a) => a.name === values.arm);
  if (idx < 0)
    throw new InputError(
      '--arm',
      `no arm named '${values.arm}' in ${configPath} (arms: ${loaded.config.arms.map((a) => a.name).join(', ')})`,
    );
  const armCfg = loaded.config.arms[idx] as unknown as Record<string, unknown> & { name: string; kind: string; model?: string };
  if (!['finetune', 'finetune+prompt', 'distill'].includes(armCfg.kind))
    throw new InputError(
      `arms[${idx}].kind`,
      `arm '${armCfg.name}' is a ${armCfg.kind} arm: export needs a finetune, finetune+prompt or distill arm`,
    );
  const out = resolve(values.out ?? join(loaded.baseDir, 'export', `${armCfg.name}-${values.to}`));
  const dbPath = storePath(loaded.outputDir);

  // the latest run's record of this arm (its folder holds train.jsonl / dev.jsonl; its artifact the model)
  const stored = (() => {
    if (!existsSync(dbPath)) return undefined;
    const store = openRunStore(dbPath);
    try {
      const run = values.run
        ? store.getRun(values.run)
        : store
            .listRuns({ experiment: loaded.config.experiment, limit: 50 })
            .find((r) => store.getArm(r.id, armCfg.name)?.artifact !== undefined);
      if (values.run && !run) throw new InputError('--run', `no run ${values.run} in ${dbPath}`);
      const arm = run ? store.getArm(run.id, armCfg.name) : undefined;
      return run && arm ? { runDir: join(loaded.outputDir, 'runs', run.id), arm } : undefined;
    } finally {
      store.close();
    }
  })();

  const modelEntry = loaded.config.models.find((m) => m.id === armCfg.model);
  const student = (armCfg.kind === 'distill' ? armCfg.student : armCfg) as Record<string, unknown> & { model?: string };

  if (values.to === 'gguf' || values.to === 'ollama') {
    const art = stored?.arm.artifact as { kind?: string; modelDir?: string; student?: { modelDir?: string } } | undefined;
    const modelDir = art?.modelDir ?? art?.student?.modelDir;
    if (!stored || !modelDir) {
      if (art?.kind === 'tunelab.hosted-finetune')
        throw new InputError(
          '--arm',
          `arm '${armCfg.name}' was fine-tuned at a provider: its weights stay there (download them from the provider, then export from a local folder)`,
        );
      throw new InputError('--arm', `no trained model of arm '${armCfg.name}' found in ${dbPath}: run the experiment first (tunelab run)`);
    }
    if (!existsSync(join(modelDir, 'config.json'))) throw new InputError('--arm', `the trained model folder ${modelDir} is gone`);
    const { loadHfModel, exportGguf } = await import('../../engine/index.ts');
    const m = loadHfModel(modelDir);
    if (!m.tokenizer) throw new InputError('--arm', `${modelDir} has no tokenizer.json: GGUF needs the tokenizer`);
    mkdirSync(out, { recursive: true });
    exportGguf(
      join(out, 'model.gguf'),
      { config: m.config, weights: m.weights, tokenizer: m.tokenizer!, tokenizerConfig: m.tokenizerConfig },
      { name: `tunelab-${armCfg.name}` },
    );
    const lines = [`wrote ${relative(process.cwd(), join(out, 'model.gguf')) || 'model.gguf'} (from ${modelDir})`];
    if (values.to === 'ollama') {
      const { ollamaModelfile } = await import('../../finetune/export/index.ts');
      const chat = m.tokenizerConfig?.chat_template;
      writeFileSync(
        join(out, 'Modelfile'),
        ollamaModelfile({ gguf: './model.gguf', chatTemplate: typeof chat === 'string' ? chat : undefined }),
      );
      lines.push(
        `wrote Modelfile; run: cd ${relative(process.cwd(), out) || '.'} && ollama create tunelab-${armCfg.name} -f Modelfile && ollama run tunelab-${armCfg.name}`,
      );
    } else lines.push(`run: llama-cli -m ${relative(process.cwd(), join(out, 'model.gguf'))} -cnv`);
    process.stdout.write(lines.join('\n') + '\n');
    return 0;
  }

  // the records: those the last run wrote, else computed from the config and the split
  let train: import('../../finetune/index.ts').TrainingRecord[];
  let dev: import('../../finetune/index.ts').TrainingRecord[];
  const armDir = stored ? join(stored.runDir, 'arms', armCfg.name.replace(/[^A-Za-z0-9._-]+/g, '_')) : undefined;
  const { parseJsonl } = await import('../../finetune/index.ts');
  if (armDir && existsSync(join(armDir, 'train.jsonl'))) {
    train = parseJsonl(readFileSync(join(armDir, 'train.jsonl'), 'utf8'), join(armDir, 'train.jsonl'));
    dev = existsSync(join(armDir, 'dev.jsonl'))
      ? parseJsonl(readFileSync(join(armDir, 'dev.jsonl'), 'utf8'), join(armDir, 'dev.jsonl'))
      : [];
  } else if (armCfg.kind === 'distill') {
    throw new InputError(
      '--arm',
      `a distill arm's training data are its teacher's answers: run the experiment first (tunelab run), then export`,
    );
  } else {
    const p = await prepareExperiment(loaded, { arms: [armCfg.name] });
    const { armTrainingRecords } = await import('../../experiment/arms/finetune.ts');
    ({ train, dev } = armTrainingRecords(armCfg as never, {
      data: { train: p.split.train, dev: p.split.dev },
      inputFields: p.inputFields,
      labels: p.labels,
      seed: loaded.config.seed,
      baseDir: loaded.baseDir,
    }));
  }

  let baseModel = values['base-model'] ?? (typeof student.baseModel === 'string' ? student.baseModel : undefined);
  if (!baseModel) {
    const entry = student.model === armCfg.model ? modelEntry : loaded.config.models.find((m) => m.id === student.model);
    const ref = entry
      ? entry.provider === 'local'
        ? `local:${entry.path ?? entry.model ?? entry.id}`
        : (entry.model ?? entry.id)
      : String(student.model ?? '');
    if (ref.startsWith('local:')) {
      const { resolveLocalPath } = await import('../../models/index.ts');
      baseModel = resolveLocalPath(ref);
    } else baseModel = ref;
  }
  const num = (k: string, d: number) => (typeof student[k] === 'number' ? (student[k] as number) : d);
  const method = student.method === 'full' ? 'full' : 'lora';
  const rank = num('rank', 8);
  const { buildRecipe } = await import('../../finetune/export/index.ts');
  const recipe = buildRecipe(values.to as 'axolotl', {
    arm: armCfg.name,
    baseModel,
    method,
    rank,
    alpha: num('alpha', 2 * rank),
    dropout: num('dropout', 0.05),
    targetModules: Array.isArray(student.targetModules)
      ? (student.targetModules as string[])
      : ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'],
    epochs: num('epochs', 3),
    learningRate: num('learningRate', method === 'lora' ? 2e-4 : 2e-5),
    batchSize: num('batchSize', 8),
    seqLen: num('maxSeqLen', 2048),
    seed: typeof student.seed === 'number' ? student.seed : loaded.config.seed,
    gpus,
    strategy: values.strategy as 'zero2' | undefined,
    accelerator: values.accelerator,
    bucket: values.bucket,
    train,
    dev,
  });
  for (const [rel, text] of Object.entries(recipe.files)) {
    const f = join(out, rel);
    mkdirSync(dirname(f), { recursive: true });
    writeFileSync(f, text);
  }
  process.stdout.write(
    `wrote ${Object.keys(recipe.files).length} files to ${relative(process.cwd(), out) || '.'} (${train.length} train, ${dev.length} dev records)\nrun: cd ${relative(process.cwd(), out) || '.'} && ${recipe.commands[0]}\nsee ${relative(process.cwd(), join(out, 'README.md'))}\n`,
  );
  return 0;
}
