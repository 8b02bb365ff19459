// Training recipes for GPU trainers users run themselves: the arm's records in the trainer's data format,
// a config mapping the arm's settings, an accelerate config (DeepSpeed ZeRO or FSDP) for more than one
// GPU, a SkyPilot task that runs it on a rented GPU, and a README with the exact commands. Pure: returns
// file contents; the CLI writes them. Key names follow each trainer's documentation (Axolotl config
// reference, TRL SFTConfig/ModelConfig, LLaMA-Factory examples and data/README, mlx-lm LoRA config,
// Unsloth's FastLanguageModel + TRL SFTTrainer).
import { stringify } from 'yaml';
import type { TrainingRecord } from '../types.ts';

export const EXPORT_TARGETS = ['axolotl', 'trl', 'llama-factory', 'mlx-lm', 'unsloth'] as const;
export type ExportTarget = (typeof EXPORT_TARGETS)[number];
export type Strategy = 'zero2' | 'zero3' | 'fsdp';

export interface RecipeInput {
  arm: string;
  /** Hugging Face model id or local path of the base model */
  baseModel: string;
  method: 'lora' | 'full';
  rank: number;
  alpha: number;
  dropout: number;
  targetModules: string[];
  epochs: number;
  learningRate: number;
  /** examples per optimizer step (micro batch × accumulation × GPUs) */
  batchSize: number;
  seqLen: number;
  seed: number;
  gpus: number;
  strategy?: Strategy;
  /** LLaMA-Factory template name (default: guessed from the model id) */
  template?: string;
  /** the GPU SkyPilot asks for (default H100) */
  accelerator?: string;
  /** a bucket SkyPilot mounts at /outputs so the adapter comes back without rsync */
  bucket?: string;
  train: TrainingRecord[];
  dev: TrainingRecord[];
}

export interface Recipe {
  files: Record<string, string>;
  /** shell commands, in order, run from the export folder */
  commands: string[];
}

const jsonl = (rows: unknown[]) => rows.map((r) => JSON.stringify(r)).join('\n') + (rows.length ? '\n' : '');
const msgs = (rs: TrainingRecord[]) => jsonl(rs.map((r) => ({ messages: r.messages.map((m) => ({ role: m.role, content: m.content })) })));
const yaml = (o: unknown) => stringify(o, { lineWidth: 0 });

function micro(i: RecipeInput): { micro: number; accum: number } {
  const perGpu = Math.max(1, Math.floor(i.batchSize / Math.max(1, i.gpus)));
  const m = Math.min(perGpu, 8);
  return { micro: m, accum: Math.max(1, Math.round(perGpu / m)) };
}

/** The strategy for N GPUs: FSDP or DeepSpeed ZeRO-2 (LoRA) / ZeRO-3 (full). */
export function strategyFor(i: Pick<RecipeInput, 'gpus' | 'method' | 'strategy'>): Strategy | undefined {
  if (i.gpus <= 1) return undefined;
  return i.strategy ?? (i.method === 'full' ? 'zero3' : 'zero2');
}

/** DeepSpeed JSON config for a ZeRO stage ("auto" values are filled in by the HF integration). */
export function deepspeedConfig(stage: 2 | 3): Record<string, unknown> {
  return {
    bf16: { enabled: 'auto' },
    zero_optimization:
      stage === 3
        ? {
            stage: 3,
            overlap_comm: true,
            contiguous_gradients: true,
            stage3_gather_16bit_weights_on_model_save: true,
            reduce_bucket_size: 'auto',
          }
        : { stage: 2, overlap_comm: true, contiguous_gradients: true, allgather_bucket_size: 5e8, reduce_bucket_size: 'auto' },
    gradient_accumulation_steps: 'auto',
    gradient_clipping: 'auto',
    train_batch_size: 'auto',
    train_micro_batch_size_per_gpu: 'auto',
  };
}

/** An accelerate config file (accelerate launch --config_file) for one machine with N GPUs. */
export function accelerateConfig(gpus: number, strategy: Strategy): Record<string, unknown> {
  const common = {
    compute_environment: 'LOCAL_MACHINE',
    machine_rank: 0,
    main_training_function: 'main',
    mixed_precision: 'bf16',
    num_machines: 1,
    num_processes: gpus,
    rdzv_backend: 'static',
    same_network: true,
    use_cpu: false,
    debug: false,
  };
  if (strategy === 'fsdp') {
    return {
      ...common,
      distributed_type: 'FSDP',
      fsdp_config: {
        fsdp_auto_wrap_policy: 'TRANSFORMER_BASED_WRAP',
        fsdp_backward_prefetch: 'BACKWARD_PRE',
        fsdp_cpu_ram_efficient_loading: true,
        fsdp_forward_prefetch: false,
        fsdp_offload_params: false,
        fsdp_sharding_strategy: 'FULL_SHARD',
        fsdp_state_dict_type: 'SHARDED_STATE_DICT',
        fsdp_sync_module_states: true,
        fsdp_use_orig_params: true,
      },
    };
  }
  return {
    ...common,
    distributed_type: 'DEEPSPEED',
    deepspeed_config: { deepspeed_config_file: `deepspeed_${strategy}.json`, zero3_init_flag: strategy === 'zero3' },
  };
}

function llamaFactoryTemplate(model: string): string {
  const m = model.toLowerCase();
  if (m.includes('qwen3')) return 'qwen3';
  if (m.includes('qwen')) return 'qwen';
  if (m.includes('llama-3') || m.includes('llama3')) return 'llama3';
  if (m.includes('gemma')) return 'gemma';
  if (m.includes('mistral')) return 'mistral';
  if (m.includes('phi')) return 'phi';
  return 'default';
}

function skypilot(i: RecipeInput, setup: string, run: string): string {
  const task: Record<string, unknown> = {
    name: `tunelab-${i.arm}`.toLowerCase().replace(/[^a-z0-9-]+/g, '-'),
    resources: { accelerators: `${i.accelerator ?? 'H100'}:${Math.max(1, i.gpus)}`, use_spot: false, disk_size: 256 },
    num_nodes: 1,
    workdir: '.',
    envs: { HF_TOKEN: null },
    ...(i.bucket ? { file_mounts: { '/outputs': { name: i.bucket, mode: 'MOUNT' } } } : {}),
    setup,
    run,
  };
  return `# SkyPilot task: sky launch -c tunelab-${i.arm} sky.yaml --env HF_TOKEN\n${yaml(task)}`;
}

function readme(i: RecipeInput, target: string, commands: string[], notes: string[]): string {
  return [
    `# ${target} recipe for arm \`${i.arm}\` (written by tunelab export)`,
    '',
    `Base model: \`${i.baseModel}\`; ${i.method === 'lora' ? `LoRA r=${i.rank} alpha=${i.alpha} dropout=${i.dropout} on ${i.targetModules.join(', ')}` : 'full fine-tuning'}; ${i.epochs} epochs, learning rate ${i.learningRate}, ${i.batchSize} examples per step, sequence length ${i.seqLen}, seed ${i.seed}; ${i.gpus} GPU${i.gpus > 1 ? `s (${strategyFor(i)})` : ''}.`,
    `Data: ${i.train.length} training and ${i.dev.length} validation records, exactly what the arm trains on (chat \`messages\`).`,
    '',
    '## Run it on this machine',
    '',
    '```sh',
    ...commands,
    '```',
    '',
    '## Run it on a rented GPU (SkyPilot)',
    '',
    '```sh',
    `sky launch -c tunelab-${i.arm} sky.yaml --env HF_TOKEN`,
    ...(i.bucket
      ? ['# the adapter is written to the bucket mounted at /outputs']
      : [`rsync -Pavz tunelab-${i.arm}:sky_workdir/outputs/ ./outputs/   # copy the adapter back`]),
    `sky down tunelab-${i.arm}`,
    '```',
    '',
    '## Compare it',
    '',
    'Add the result to tunelab.yaml as an external arm and run again:',
    '',
    '```yaml',
    `  - name: ${i.arm}-${target}`,
    '    kind: external',
    '    path: ./outputs/adapter        # a PEFT adapter folder (or a merged HF folder)',
    '    trainingCost: { usd: 0 }       # or trainerLog: ./outputs/trainer_state.json with pricePerHour',
    '```',
    '',
    ...notes.map((n) => `- ${n}`),
    '',
  ].join('\n');
}

export function buildRecipe(target: ExportTarget, i: RecipeInput): Recipe {
  const { micro: mb, accum } = micro(i);
  const strat = strategyFor(i);
  const files: Record<string, string> = {};
  const notes: string[] = [];
  let commands: string[];
  let setup: string;
  if (strat) {
    files['accelerate.yaml'] = yaml(accelerateConfig(i.gpus, strat));
    if (strat !== 'fsdp') files[`deepspeed_${strat}.json`] = JSON.stringify(deepspeedConfig(strat === 'zero3' ? 3 : 2), null, 2) + '\n';
  }
  if (target === 'axolotl') {
    files['data/train.jsonl'] = msgs(i.train);
    files['data/dev.jsonl'] = msgs(i.dev);
    const cfg: Record<string, unknown> = {
      base_model: i.baseModel,
      chat_template: 'tokenizer_default',
      datasets: [
        { path: 'data/train.jsonl', ds_type: 'json', type: 'chat_template', field_messages: 'messages', roles_to_train: ['assistant'] },
      ],
      ...(i.dev.length
        ? {
            test_datasets: [{ path: 'data/dev.jsonl', ds_type: 'json', split: 'train', type: 'chat_template', field_messages: 'messages' }],
          }
        : { val_set_size: 0 }),
      dataset_prepared_path: 'prepared',
      output_dir: 'outputs/adapter',
      sequence_len: i.seqLen,
      sample_packing: false,
      ...(i.method === 'lora'
        ? { adapter: 'lora', lora_r: i.rank, lora_alpha: i.alpha, lora_dropout: i.dropout, lora_target_modules: i.targetModules }
        : {}),
      micro_batch_size: mb,
      gradient_accumulation_steps: accum,
      num_epochs: i.epochs,
      learning_rate: i.learningRate,
      optimizer: 'adamw_torch',
      lr_scheduler: 'cosine',
      warmup_ratio: 0.03,
      bf16: 'auto',
      gradient_checkpointing: true,
      logging_steps: 1,
      seed: i.seed,
      ...(strat && strat !== 'fsdp' ? { deepspeed: `deepspeed_${strat}.json` } : {}),
      ...(strat === 'fsdp'
        ? {
            fsdp: ['full_shard', 'auto_wrap'],
            fsdp_config: {
              fsdp_auto_wrap_policy: 'TRANSFORMER_BASED_WRAP',
              fsdp_state_dict_type: 'FULL_STATE_DICT',
              fsdp_offload_params: false,
            },
          }
        : {}),
    };
    files['axolotl.yaml'] = yaml(cfg);
    commands = [strat ? 'accelerate launch -m axolotl.cli.train axolotl.yaml' : 'axolotl train axolotl.yaml'];
    setup = 'pip install -U "axolotl[flash-attn,deepspeed]"';
  } else if (target === 'trl') {
    files['data/train.jsonl'] = msgs(i.train);
    files['data/validation.jsonl'] = msgs(i.dev);
    const cfg: Record<string, unknown> = {
      model_name_or_path: i.baseModel,
      dtype: 'bfloat16',
      dataset_name: 'data',
      dataset_train_split: 'train',
      ...(i.dev.length ? { dataset_test_split: 'validation', eval_strategy: 'epoch' } : {}),
      output_dir: 'outputs/adapter',
      num_train_epochs: i.epochs,
      learning_rate: i.learningRate,
      per_device_train_batch_size: mb,
      gradient_accumulation_steps: accum,
      max_length: i.seqLen,
      assistant_only_loss: true,
      gradient_checkpointing: true,
      lr_scheduler_type: 'cosine',
      warmup_ratio: 0.03,
      bf16: true,
      logging_steps: 1,
      save_strategy: 'epoch',
      seed: i.seed,
      report_to: 'none',
      ...(i.method === 'lora'
        ? { use_peft: true, lora_r: i.rank, lora_alpha: i.alpha, lora_dropout: i.dropout, lora_target_modules: i.targetModules }
        : {}),
    };
    files['sft.yaml'] = yaml(cfg);
    commands = [strat ? 'trl sft --config sft.yaml --accelerate_config accelerate.yaml' : 'trl sft --config sft.yaml'];
    setup = 'pip install -U "trl[peft]" deepspeed';
    notes.push("assistant_only_loss needs a chat template with generation markers; set it to false if your model's template has none.");
  } else if (target === 'llama-factory') {
    files['data/train.jsonl'] = msgs(i.train);
    files['data/dev.jsonl'] = msgs(i.dev);
    const entry = (file: string) => ({
      file_name: file,
      formatting: 'sharegpt',
      columns: { messages: 'messages' },
      tags: { role_tag: 'role', content_tag: 'content', user_tag: 'user', assistant_tag: 'assistant', system_tag: 'system' },
    });
    files['data/dataset_info.json'] =
      JSON.stringify({ tunelab_train: entry('train.jsonl'), ...(i.dev.length ? { tunelab_dev: entry('dev.jsonl') } : {}) }, null, 2) + '\n';
    const cfg: Record<string, unknown> = {
      model_name_or_path: i.baseModel,
      stage: 'sft',
      do_train: true,
      finetuning_type: i.method,
      ...(i.method === 'lora'
        ? { lora_rank: i.rank, lora_alpha: i.alpha, lora_dropout: i.dropout, lora_target: i.targetModules.join(',') }
        : {}),
      dataset: 'tunelab_train',
      dataset_dir: 'data',
      ...(i.dev.length ? { eval_dataset: 'tunelab_dev', eval_strategy: 'epoch', per_device_eval_batch_size: mb } : {}),
      template: i.template ?? llamaFactoryTemplate(i.baseModel),
      cutoff_len: i.seqLen,
      overwrite_cache: true,
      output_dir: 'outputs/adapter',
      logging_steps: 1,
      save_strategy: 'epoch',
      plot_loss: true,
      per_device_train_batch_size: mb,
      gradient_accumulation_steps: accum,
      learning_rate: i.learningRate,
      num_train_epochs: i.epochs,
      lr_scheduler_type: 'cosine',
      warmup_ratio: 0.03,
      bf16: true,
      seed: i.seed,
      report_to: 'none',
      ...(strat && strat !== 'fsdp' ? { deepspeed: `deepspeed_${strat}.json` } : {}),
    };
    files['train.yaml'] = yaml(cfg);
    commands = [
      strat === 'fsdp'
        ? 'accelerate launch --config_file accelerate.yaml src/train.py train.yaml  # from a LLaMA-Factory checkout'
        : `${strat ? 'FORCE_TORCHRUN=1 ' : ''}llamafactory-cli train train.yaml`,
    ];
    setup = 'pip install -U "llamafactory[torch,metrics,deepspeed]"';
  } else if (target === 'mlx-lm') {
    files['data/train.jsonl'] = msgs(i.train);
    files['data/valid.jsonl'] = msgs(i.dev.length ? i.dev : i.train.slice(0, 1));
    const iters = Math.max(1, Math.ceil(i.train.length / Math.max(1, i.batchSize)) * i.epochs);
    const cfg: Record<string, unknown> = {
      model: i.baseModel,
      train: true,
      fine_tune_type: i.method,
      data: 'data',
      seed: i.seed,
      num_layers: -1,
      batch_size: Math.max(1, i.batchSize),
      iters,
      val_batches: -1,
      learning_rate: i.learningRate,
      steps_per_report: 10,
      steps_per_eval: Math.max(1, Math.ceil(i.train.length / Math.max(1, i.batchSize))),
      adapter_path: 'outputs/adapter',
      save_every: iters,
      max_seq_length: i.seqLen,
      grad_checkpoint: true,
      ...(i.method === 'lora'
        ? {
            lora_parameters: {
              keys: i.targetModules.map((t) => (/^(q|k|v|o)_proj$/.test(t) ? `self_attn.${t}` : `mlp.${t}`)),
              rank: i.rank,
              scale: i.alpha / i.rank,
              dropout: i.dropout,
            },
          }
        : {}),
    };
    files['lora_config.yaml'] = yaml(cfg);
    commands = [
      'mlx_lm.lora --config lora_config.yaml',
      'mlx_lm.fuse --model ' + i.baseModel + ' --adapter-path outputs/adapter --save-path outputs/merged',
    ];
    setup = 'pip install -U mlx-lm';
    notes.push(
      `MLX runs on Apple silicon only: --gpus does not apply and the SkyPilot task is not written (${i.epochs} epochs = ${iters} iterations of ${i.batchSize}).`,
    );
  } else {
    files['data/train.jsonl'] = msgs(i.train);
    files['data/dev.jsonl'] = msgs(i.dev);
    const settings = {
      base_model: i.baseModel,
      max_seq_length: i.seqLen,
      method: i.method,
      r: i.rank,
      lora_alpha: i.alpha,
      lora_dropout: i.dropout,
      target_modules: i.targetModules,
      num_train_epochs: i.epochs,
      learning_rate: i.learningRate,
      per_device_train_batch_size: mb,
      gradient_accumulation_steps: accum,
      seed: i.seed,
      output_dir: 'outputs/adapter',
    };
    files['unsloth_config.json'] = JSON.stringify(settings, null, 2) + '\n';
    files['train_unsloth.py'] = UNSLOTH_SCRIPT;
    commands = ['python train_unsloth.py unsloth_config.json'];
    setup = 'pip install -U unsloth';
    if (i.gpus > 1) notes.push('Unsloth trains on one GPU here; use the axolotl or trl export for several GPUs.');
  }
  if (target !== 'mlx-lm')
    files['sky.yaml'] = skypilot(i, setup, [...commands, ...(i.bucket ? ['cp -r outputs/. /outputs/'] : [])].join('\n'));
  files['README.md'] = readme(i, target, commands, notes);
  return { files, commands };
}

// Unsloth has no config format: a short script reads the exported settings (no tunelab code in it).
const UNSLOTH_SCRIPT = `# Written by tunelab export: LoRA (or full) fine-tuning with Unsloth on data/train.jsonl.
import json, sys
from unsloth import FastLanguageModel
from datasets import load_dataset
from trl import SFTTrainer, SFTConfig

cfg = json.load(open(sys.argv[1] if len(sys.argv) > 1 else "unsloth_config.json"))
model, tokenizer = FastLanguageModel.from_pretrained(model_name=cfg["base_model"], max_seq_length=cfg["max_seq_length"], load_in_4bit=False,
                                                     full_finetuning=cfg["method"] == "full")
if cfg["method"] == "lora":
    model = FastLanguageModel.get_peft_model(model, r=cfg["r"], lora_alpha=cfg["lora_alpha"], lora_dropout=cfg["lora_dropout"],
                                             target_modules=cfg["target_modules"], random_state=cfg["seed"])
data = load_dataset("json", data_files={"train": "data/train.jsonl", "validation": "data/dev.jsonl"})
trainer = SFTTrainer(model=model, tokenizer=tokenizer, train_dataset=data["train"],
                     eval_dataset=data["validation"] if len(data["validation"]) else None,
                     args=SFTConfig(output_dir=cfg["output_dir"], num_train_epochs=cfg["num_train_epochs"], learning_rate=cfg["learning_rate"],
                                    per_device_train_batch_size=cfg["per_device_train_batch_size"],
                                    gradient_accumulation_steps=cfg["gradient_accumulation_steps"], max_length=cfg["max_seq_length"],
                                    seed=cfg["seed"], logging_steps=1, report_to="none"))
trainer.train()
model.save_pretrained(cfg["output_dir"])
tokenizer.save_pretrained(cfg["output_dir"])
`;
