// tunelab CLI entry. Parses arguments and lazily imports one command module, so `tunelab --help`
// loads nothing heavy (no SQLite, no SDKs, no onnxruntime). Keep imports here to commander only.
import { Command, CommanderError, Option } from 'commander';
import { exitCodeFor, printError } from './errors.ts';

const VERSION = '0.1.0';

type CommandModule = { default: (...args: any[]) => Promise<number | void> | number | void };

/** Load src/cli/commands/<name>.ts (esbuild bundles each as its own chunk). */
async function loadCommand(name: string): Promise<CommandModule> {
  try {
    return (await import(`./commands/${name}.ts`)) as CommandModule;
  } catch (err) {
    if ((err as NodeJS.ErrnoException)?.code === 'ERR_MODULE_NOT_FOUND' && String((err as Error).message).includes(`commands/${name}`)) {
      throw Object.assign(new Error(`the ${name} command is not available in this build`), { exitCode: 2 });
    }
    throw err;
  }
}

/** Wrap a lazily loaded command: run it, map its result or error to an exit code. */
function lazyCommand(name: string, mapArgs: (...args: any[]) => unknown[] = (...a) => a) {
  return async (...args: unknown[]) => {
    let code = 0;
    try {
      const mod = await loadCommand(name);
      const r = await mod.default(...mapArgs(...args));
      code = typeof r === 'number' ? r : 0;
    } catch (err) {
      printError(err);
      code = exitCodeFor(err);
    }
    process.exitCode = code;
  };
}

const program = new Command();
program
  .name('tunelab')
  .description(
    'Prompt engineering vs fine-tuning, measured on your own data.\n\nExit codes: 0 ok, 1 finished but an assertion or failure threshold was crossed, 2 bad input.',
  )
  .version(VERSION, '-V, --version')
  .showHelpAfterError('(run with --help for usage)')
  .exitOverride();

program
  .command('run')
  .description('run an experiment (resumes an interrupted run of the same config)')
  .argument('[config]', 'experiment config file', 'tunelab.yaml')
  .option('--no-cache', 'bypass the response cache (calls are still recorded)')
  .option('--json', 'machine-readable output on stdout (one JSON object)')
  .option('--arm <name...>', 'run only these arms')
  .option('--fresh', 'start a new run even if an interrupted one exists')
  .option('--cancel-jobs', 'on Ctrl-C, cancel fine-tuning jobs running at providers (default: leave them running; a rerun resumes them)')
  .option('--batch', "send the calls of OpenAI and Anthropic models through the provider's batch API (half price, answers within 24 h)")
  .option('-q, --quiet', 'no progress output')
  .action(lazyCommand('run'));

program
  .command('report')
  .description('render the report of a stored run')
  .argument('[run]', 'run id, or "latest"', 'latest')
  .addOption(new Option('-f, --format <format>', 'output format').choices(['table', 'md', 'json', 'html']).default('table'))
  .option('-o, --out <file>', 'write to a file instead of stdout')
  .option('-c, --config <file>', 'config whose output folder holds the store', 'tunelab.yaml')
  .option('--store <file>', 'path to the SQLite store (overrides --config)')
  .action(lazyCommand('report'));

program
  .command('runs')
  .description('list stored runs')
  .option('-c, --config <file>', 'config whose output folder holds the store', 'tunelab.yaml')
  .option('--store <file>', 'path to the SQLite store (overrides --config)')
  .option('--json', 'machine-readable output')
  .action(lazyCommand('runs'));

program
  .command('view')
  .description('browse runs in a local web app: examples side by side, the messages each arm sent, live progress, run comparison')
  .option('-c, --config <file>', 'config whose output folder holds the store', 'tunelab.yaml')
  .option('--store <file>', 'path to the SQLite store (overrides --config)')
  .option('-p, --port <n>', 'port (0 picks a free one)', '4173')
  .option('--host <addr>', 'address to bind (default 127.0.0.1)')
  .option('--open', 'open it in the browser')
  .option(
    '--api-key-env <NAME>',
    'require "Authorization: Bearer <key>" with the key from this variable (default TUNELAB_API_KEY, when set)',
  )
  .action(lazyCommand('view'));

program
  .command('init')
  .description('write a commented starter tunelab.yaml (and a small data set) that runs as written')
  .argument('[dir]', 'target folder', '.')
  .option('--force', 'overwrite existing files')
  .action(lazyCommand('init'));

// Commands owned by other modules (demo, serve, pretrain) parse their own arguments. Their module's
// default export is called as `default(firstPositional, {}, { args })`, where `args` is the raw argv
// after the command name (`--help` included: these commands print their own help).
const passthrough: [string, string][] = [
  ['demo', 'run the built-in offline demo: prompt arms vs fine-tuning on the spam task'],
  ['serve', 'OpenAI-compatible HTTP server over the local engine'],
  [
    'export',
    "write a fine-tune arm's data and recipe for Axolotl, TRL, LLaMA-Factory, MLX-LM, Unsloth (+ SkyPilot), or its model as GGUF / Ollama",
  ],
  ['pretrain', 'pretrain the built-in base model from a recipe'],
  ['advise', 'recommend an arm from a stored run (no model calls): --volume, --horizon, --max-latency, budgets'],
];
for (const [name, description] of passthrough) {
  program
    .command(name)
    .description(description)
    .helpOption(false)
    .allowUnknownOption(true)
    .allowExcessArguments(true)
    .argument('[args...]')
    .action(
      lazyCommand(name, (_args: unknown, _opts: unknown, cmd: Command) => {
        const args = [...cmd.args];
        return [args.find((a) => !a.startsWith('-')), {}, { args }];
      }),
    );
}

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) {
    // help and version exit 0; usage errors are bad input (2). Commander already printed the message.
    process.exitCode = err.exitCode === 0 ? 0 : 2;
  } else {
    printError(err);
    process.exitCode = exitCodeFor(err);
  }
}
