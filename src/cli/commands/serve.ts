// tunelab serve: an OpenAI-compatible HTTP server over the local engine (see src/server).
import { parseArgs } from 'node:util';
import { join, resolve } from 'node:path';
import { env, InputError } from '../../core/index.ts';

const HELP = `Usage: tunelab serve [options]

OpenAI-compatible HTTP server over tunelab's local engine: /v1/models, /v1/chat/completions (streaming),
/v1/files, /v1/fine_tuning/jobs (create, list, retrieve, cancel, events, checkpoints). Fine-tuning runs
on this machine (LoRA by default) and the result is served at once under the job's fine_tuned_model.

Options:
  --host <addr>          address to bind (default 127.0.0.1; 0.0.0.0 exposes it to the network)
  --port <n>             port (default 8080; 0 picks a free one)
  --model <id>           a model to serve (repeatable; default local:builtin). local:<path> for any HF folder
  --models-root <dir>    also serve local:<path> folders inside this folder (requests naming a folder
                         elsewhere get 404; default: only --model ids and the jobs this server trained)
  --max-loaded <n>       most models kept loaded at once; the least recently used are unloaded (default 4)
  --data <dir>           where the store, uploaded files and fine-tuned models live (default .tunelab/serve)
  --api-key-env <NAME>   require "Authorization: Bearer <key>" with the key read from this variable
                         (default TUNELAB_API_KEY: a key is required whenever that variable is set)
  --max-body <bytes>     limit for JSON request bodies (default 1048576)
  --max-upload <bytes>   limit for uploaded files (default 67108864)
  -h, --help             this help

Restarts: jobs persist in the store; a job that was queued when the server stopped runs after the next
start; a job that was running is marked failed (error code server_restarted) and is not resumed.
`;

export default async function serve(_first: unknown, _opts: unknown, cmd?: { args?: string[] }): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: cmd?.args ?? [],
      options: {
        host: { type: 'string' },
        port: { type: 'string' },
        model: { type: 'string', multiple: true },
        data: { type: 'string' },
        'api-key-env': { type: 'string' },
        'max-body': { type: 'string' },
        'max-upload': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
        'models-root': { type: 'string' },
        'max-loaded': { type: 'string' },
      },
      allowPositionals: false,
    }));
  } catch (e) {
    throw new InputError('tunelab serve', `${(e as Error).message} (see tunelab serve --help)`);
  }
  if (values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  const int = (v: string | undefined, name: string, dflt: number) => {
    if (v === undefined) return dflt;
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0) throw new InputError(`--${name}`, `expected a non-negative integer, got "${v}"`);
    return n;
  };
  const port = int(values.port, 'port', 8080);
  const keyEnv = values['api-key-env'] ?? 'TUNELAB_API_KEY';
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(keyEnv)) throw new InputError('--api-key-env', 'expected an environment variable name');
  const apiKey = env(keyEnv);
  if (values['api-key-env'] && !apiKey) throw new InputError('--api-key-env', `environment variable ${keyEnv} is not set`);
  const models = values.model?.length ? values.model : ['local:builtin'];
  for (const m of models)
    if (!m.startsWith('local:'))
      throw new InputError('--model', `"${m}": tunelab serve serves local models (local:builtin or local:<path>)`);
  const dataDir = resolve(values.data ?? join('.tunelab', 'serve'));
  const modelsRoot = values['models-root'] ? resolve(values['models-root']) : undefined;
  const maxLoaded = int(values['max-loaded'], 'max-loaded', 4);
  if (maxLoaded < 1) throw new InputError('--max-loaded', 'expected at least 1');

  const [
    { startServer, storeBackedServerStore },
    { openStore },
    { LocalFineTuneBackend },
    { openLocalModel, closeLocalModel, isLocalModelUnder },
  ] = await Promise.all([
    import('../../server/index.ts'),
    import('../../store/index.ts'),
    import('../../finetune/index.ts'),
    import('../../models/index.ts'),
  ]);
  for (const m of models) await openLocalModel(m).ready();
  const store = storeBackedServerStore(openStore(join(dataDir, 'tunelab.db'), { secrets: apiKey ? [apiKey] : [] }), join(dataDir, 'files'));
  const srv = await startServer({
    store,
    backend: new LocalFineTuneBackend(),
    outputRoot: join(dataDir, 'models'),
    models,
    fineTunableModels: models,
    resolveModel: (id) => openLocalModel(id),
    apiKey,
    host: values.host ?? '127.0.0.1',
    port,
    allowModel: modelsRoot ? (id) => id.startsWith('local:') && isLocalModelUnder(id, modelsRoot) : undefined,
    releaseModel: (id) => {
      if (!models.includes(id)) closeLocalModel(id);
    },
    maxLoadedModels: maxLoaded,
    maxJsonBytes: int(values['max-body'], 'max-body', 1 << 20),
    maxUploadBytes: int(values['max-upload'], 'max-upload', 64 << 20),
    log: (m) => process.stderr.write(`tunelab serve: ${m}\n`),
  });
  process.stderr.write(
    `tunelab serve: listening on ${srv.url} (models: ${models.join(', ')}${modelsRoot ? `; folders under ${modelsRoot}` : ''}; data: ${dataDir}${apiKey ? `; key required (${keyEnv})` : ''})\n`,
  );
  await new Promise<void>((res) => {
    const stop = () => {
      process.stderr.write('tunelab serve: shutting down\n');
      void srv.close().then(res);
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  return 0;
}
