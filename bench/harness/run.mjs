#!/usr/bin/env node
// bench/harness: tunelab vs promptfoo on the same cases, the same local server, the same concurrency.
//
//   node bench/harness/run.mjs [--sizes 10000,100000,1000000] [--concurrency 32] [--only tunelab|promptfoo]
//                              [--max-seconds S|SIZE:S,…] [--bin bin/tunelab.mjs] [--peer-no-write] [--cpu-prof] [--keep] [--json FILE]
//
// One run: starts the instant OpenAI-compatible mock server (test/helpers/mock-openai-server.ts) as its
// own process, so its CPU is not charged to either harness; for each size writes N short spam/ham cases
// (streamed to disk) and times `tunelab run` on them (wall time → cases/s, peak RSS of the process tree,
// CPU per case, and the load average before and after); promptfoo runs at 10,000 cases (or the smallest
// size) right after tunelab's run of that size, when its peer is installed;
// times `--version` of both; prints every figure, the ratios, and how each size compares with 10k. promptfoo (bench/harness/peer, its
// own package.json and lock) runs offline: a preload refuses non-loopback sockets, its telemetry,
// update check, sharing and remote generation are off, and its home/config/cache live in a scratch dir.
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(HERE, '../..');
const PEER_BIN = join(HERE, 'peer/node_modules/promptfoo/dist/src/entrypoint.js');
const TUNELAB_BIN_DEFAULT = join(ROOT, 'bin/tunelab.mjs');
const MOCK = join(ROOT, 'test/helpers/mock-openai-server.ts');
const TIME = existsSync('/usr/bin/time') ? '/usr/bin/time' : null;

// ---------- arguments ----------
const argv = process.argv.slice(2);
const flag = (name) => argv.includes(name);
const opt = (name, dflt) => {
  const i = argv.indexOf(name);
  return i >= 0 && i + 1 < argv.length ? argv[i + 1] : dflt;
};
if (flag('--help') || flag('-h')) {
  process.stdout.write(
    readFileSync(fileURLToPath(import.meta.url), 'utf8')
      .split('\n')
      .slice(1, 13)
      .map((l) => l.replace(/^\/\/ ?/, ''))
      .join('\n') + '\n',
  );
  process.exit(0);
}
const SIZES = (opt('--cases', null) ?? opt('--sizes', '10000,100000,1000000')).split(',').map((x) => Number(x.replace(/_/g, '')));
// --max-seconds S (every size) or SIZE:S,SIZE:S (those sizes only), e.g. 1000000:900
const MAX_SPEC = String(opt('--max-seconds', '0'));
const MAX_BY = new Map(MAX_SPEC.includes(':') ? MAX_SPEC.split(',').map((x) => x.split(':').map((y) => Number(y.replace(/_/g, '')))) : []);
const MAX_ALL = MAX_SPEC.includes(':') ? 0 : Number(MAX_SPEC);
const maxSecondsAt = (n) => MAX_BY.get(n) ?? MAX_ALL;
const MAX_S = MAX_ALL || Math.max(0, ...MAX_BY.values());
// --bin: a copy of bin/ + dist/ (e.g. a snapshot that other builds will not rewrite during a long run)
const TUNELAB_BIN = resolve(opt('--bin', TUNELAB_BIN_DEFAULT));
const C = Number(opt('--concurrency', 32));
const ONLY = opt('--only', null);
const CPU_PROF = flag('--cpu-prof');
const PEER_NO_WRITE = flag('--peer-no-write');
const KEEP = flag('--keep') || CPU_PROF;
const JSON_OUT = opt('--json', null);
if (!SIZES.length || SIZES.some((n) => !Number.isInteger(n) || n < 10))
  fail('--sizes / --cases: expected whole numbers ≥ 10, comma-separated');
if (!(MAX_S >= 0) || [...MAX_BY].some(([k, v]) => !(k > 0) || !(v >= 0)))
  fail('--max-seconds: expected S or SIZE:S,… (S ≥ 0; 0: no limit)');
/** promptfoo runs at this size only (10,000 when asked for, else the smallest) */
const PEER_N = SIZES.includes(10000) ? 10000 : Math.min(...SIZES);
if (!Number.isInteger(C) || C < 1) fail('--concurrency: expected a whole number ≥ 1');
if (ONLY && !['tunelab', 'promptfoo'].includes(ONLY)) fail('--only: tunelab or promptfoo');

function fail(msg) {
  process.stderr.write(`bench: ${msg}\n`);
  process.exit(2);
}
const log = (s) => process.stderr.write(`${s}\n`);

// ---------- scratch ----------
const scratch = join(HERE, '.scratch', `run-${new Date().toISOString().replace(/[:.]/g, '-')}`);
mkdirSync(scratch, { recursive: true });

// ---------- cases ----------
function rng(seed) {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const SPAM = [
  'WIN a free cruise today, reply YES to claim your prize',
  'Urgent: your account won a cash reward, click to collect',
  'Limited offer: earn money from home, click here now',
  'Congratulations winner! Claim your free gift card',
  'Get $500 instantly, no credit check, act now',
  'You have won a prize draw, call now to claim',
];
const HAM = [
  'Can we move our meeting to Thursday afternoon',
  'The build passed on the release branch, merging now',
  'Lunch at noon? The new place near the station',
  'Attached are the notes from the design review',
  'Reminder: dentist appointment next Tuesday at nine',
  'Thanks for the feedback, I will update the draft',
];
function* makeCases(n) {
  const r = rng(20261201);
  for (let i = 0; i < n; i++) {
    const spam = r() < 0.4;
    const base = (spam ? SPAM : HAM)[Math.floor(r() * 6)];
    yield { id: `c${i}`, text: `${base} (ref ${i})`, label: spam ? 'spam' : 'ham' };
  }
}
/** Writes the cases in chunks (a million cases never sit in memory as one string). */
function writeCases(dir, n, withCsv) {
  const jsonl = openSync(join(dir, 'cases.jsonl'), 'w');
  const csv = withCsv ? openSync(join(dir, 'cases.csv'), 'w') : null;
  if (csv !== null) writeSync(csv, 'text,__expected\n');
  let a = [];
  let b = [];
  const flush = () => {
    writeSync(jsonl, a.join(''));
    if (csv !== null) writeSync(csv, b.join(''));
    a = [];
    b = [];
  };
  for (const c of makeCases(n)) {
    a.push(JSON.stringify(c) + '\n');
    if (csv !== null) b.push(`${csvCell(c.text)},${csvCell(c.label)}\n`);
    if (a.length >= 10000) flush();
  }
  flush();
  closeSync(jsonl);
  if (csv !== null) closeSync(csv);
}
const csvCell = (s) => (/[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);

const SYSTEM = 'Classify the message as spam or ham. Answer with one word: spam or ham.';

function writeTunelabConfig(dir, baseURL) {
  const cfg = `experiment: bench-harness
task:
  data: cases.jsonl
  input: [text]
  expected: label
  id: id
  metric:
    type: accuracy
    labels: [spam, ham]
split:
  train: 0
  dev: 0
  test: 1
  seed: 1
  dedupe: false
models:
  - id: mock
    provider: openai-compatible
    baseURL: ${baseURL}
    model: mock-model
    temperature: 0
    maxTokens: 5
    concurrency: ${C}
    retries: 0
arms:
  - name: zero-shot
    kind: prompt
    model: mock
    messages:
      - role: system
        content: "${SYSTEM}"
      - role: user
        content: "{{text}}"
output: tunelab-out
concurrency: ${C}
`;
  writeFileSync(join(dir, 'tunelab.yaml'), cfg);
}

function writePromptfooConfig(dir, baseURL) {
  const cfg = `description: bench-harness
prompts:
  - id: zero-shot
    raw: |
      [{"role": "system", "content": "${SYSTEM}"}, {"role": "user", "content": "{{text}}"}]
providers:
  - id: openai:chat:mock-model
    config:
      apiBaseUrl: ${baseURL}
      apiKey: bench-not-a-secret
      temperature: 0
      max_tokens: 5
tests: file://cases.csv
`;
  writeFileSync(join(dir, 'promptfooconfig.yaml'), cfg);
}

// ---------- process measurement ----------
function childrenOf(pid) {
  const out = [];
  try {
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      const s = readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').trim();
      if (s) out.push(...s.split(/\s+/).map(Number));
    }
  } catch {}
  return out;
}
function statusKb(pid, key) {
  try {
    const m = new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

/** Run a command, polling its process tree: peak of the tree's summed RSS and the largest VmHWM seen. */
/** The figures one side of the benchmark reports: throughput, memory, CPU, requests the server saw. */
function sideResult(n, r, before, after, accuracy, load) {
  const served = after.completed - before.completed;
  // a run stopped by --max-seconds: its figures are per case it finished
  const done = r.killed ? served : n;
  return {
    cases: n,
    partial: Boolean(r.killed),
    casesDone: done,
    exit: r.code,
    wallS: r.wallS,
    casesPerS: done / r.wallS,
    peakRssMb: r.peakRssMb,
    cpuS: r.cpuS,
    cpuMsPerCase: r.cpuS === null ? null : (r.cpuS * 1000) / done,
    serverRequests: served,
    accuracy,
    load,
  };
}

function measure(cmd, args, { env, cwd, stdoutFile, timeoutS = 0 } = {}) {
  return new Promise((resolvePromise) => {
    const timeFile = join(scratch, `time-${Date.now()}.txt`);
    const full = TIME ? [TIME, ['-f', '%e %U %S %M', '-o', timeFile, cmd, ...args]] : [cmd, args];
    const t0 = process.hrtime.bigint();
    const child = spawn(full[0], full[1], { env, cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    let peakTreeKb = 0;
    let peakHwmKb = 0;
    const poll = () => {
      const seen = new Set();
      const stack = [child.pid];
      let sum = 0;
      while (stack.length) {
        const p = stack.pop();
        if (seen.has(p)) continue;
        seen.add(p);
        // the /usr/bin/time wrapper itself is not the harness: skip its own RSS
        if (!(TIME && p === child.pid)) {
          sum += statusKb(p, 'VmRSS');
          peakHwmKb = Math.max(peakHwmKb, statusKb(p, 'VmHWM'));
        }
        stack.push(...childrenOf(p));
      }
      peakTreeKb = Math.max(peakTreeKb, sum);
    };
    const timer = setInterval(poll, 25);
    let killed = false;
    // stop the measured process (not the /usr/bin/time wrapper, which then reports its CPU) after timeoutS
    const limit =
      timeoutS > 0
        ? setTimeout(() => {
            killed = true;
            const targets = TIME ? childrenOf(child.pid) : [child.pid];
            for (const p of targets)
              try {
                process.kill(p, 'SIGINT');
              } catch {}
          }, timeoutS * 1000)
        : null;
    child.on('close', (code) => {
      clearInterval(timer);
      if (limit) clearTimeout(limit);
      const wallS = Number(process.hrtime.bigint() - t0) / 1e9;
      let timeStats = null;
      try {
        const [e, u, s, m] = readFileSync(timeFile, 'utf8').trim().split('\n').pop().split(' ').map(Number);
        timeStats = { wallS: e, userS: u, sysS: s, maxRssKb: m };
      } catch {}
      if (stdoutFile) writeFileSync(stdoutFile, stdout);
      resolvePromise({
        code,
        killed,
        wallS,
        stdout,
        stderr,
        peakRssMb: Math.max(peakTreeKb, peakHwmKb, timeStats?.maxRssKb ?? 0) / 1024,
        cpuS: timeStats ? timeStats.userS + timeStats.sysS : null,
      });
    });
  });
}

async function startTime(cmd, args, env, runs) {
  const times = [];
  const cpus = [];
  let rss = 0;
  for (let i = 0; i < runs; i++) {
    const r = await measure(cmd, args, { env, cwd: scratch });
    if (r.code !== 0) throw new Error(`${[cmd, ...args].join(' ')} exited ${r.code}: ${r.stderr.slice(-500)}`);
    times.push(r.wallS);
    if (r.cpuS !== null) cpus.push(r.cpuS);
    rss = Math.max(rss, r.peakRssMb);
  }
  times.sort((a, b) => a - b);
  cpus.sort((a, b) => a - b);
  return {
    medianS: times[Math.floor(times.length / 2)],
    minS: times[0],
    cpuMedianS: cpus.length ? cpus[Math.floor(cpus.length / 2)] : null,
    peakRssMb: rss,
  };
}

// ---------- machine load ----------
/** 1/5/15-minute load averages (the machine is shared: every figure is printed beside the load it ran under) */
function loadAvg() {
  try {
    return readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).map(Number);
  } catch {
    return null;
  }
}

// ---------- mock server ----------
async function startServer() {
  if (!existsSync(MOCK)) fail(`the mock server ${MOCK} is missing`);
  const child = spawn(process.execPath, ['--import', 'tsx', MOCK, '--port', '0'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
  const baseURL = await new Promise((res, rej) => {
    let buf = '';
    child.stdout.on('data', (d) => {
      buf += d;
      const m = /(http:\/\/127\.0\.0\.1:\d+\/v1)/.exec(buf);
      if (m) res(m[1]);
    });
    child.on('exit', (c) => rej(new Error(`mock server exited ${c}`)));
    setTimeout(() => rej(new Error('mock server did not start in 30 s')), 30_000);
  });
  const stats = async () => (await fetch(baseURL.replace(/\/v1$/, '/__mock/stats'))).json();
  return { child, baseURL, stats };
}

// ---------- cpu profile summary ----------
function summarizeProfiles(dir) {
  const self = new Map();
  let total = 0;
  for (const f of readdirSync(dir).filter((x) => x.endsWith('.cpuprofile'))) {
    const p = JSON.parse(readFileSync(join(dir, f), 'utf8'));
    const byId = new Map(p.nodes.map((n) => [n.id, n]));
    const dt = new Map();
    for (let i = 0; i < p.samples.length; i++) dt.set(p.samples[i], (dt.get(p.samples[i]) ?? 0) + (p.timeDeltas[i] ?? 0));
    for (const [id, us] of dt) {
      const n = byId.get(id);
      const cf = n.callFrame;
      const where = cf.url ? `${cf.url.replace(/^file:\/\//, '').replace(ROOT + '/', '')}:${cf.lineNumber + 1}` : '';
      const key = `${cf.functionName || '(anonymous)'} ${where}`.trim();
      self.set(key, (self.get(key) ?? 0) + us);
      total += us;
    }
  }
  return {
    totalMs: total / 1000,
    top: [...self.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, 25)
      .map(([k, us]) => ({ fn: k, ms: us / 1000, share: us / total })),
  };
}

// ---------- main ----------
const results = {
  sizes: SIZES,
  concurrency: C,
  maxSeconds: MAX_SPEC === '0' ? null : MAX_SPEC,
  node: process.version,
  date: new Date().toISOString(),
  scratch,
  tunelabBySize: [],
};

const server = await startServer();
log(`bench: sizes ${SIZES.join(', ')}, concurrency ${C}, mock server ${server.baseURL} (separate process)`);
process.on('exit', () => server.child.kill('SIGTERM'));

const baseEnv = { ...process.env };
delete baseEnv.NODE_OPTIONS;

async function runPeer() {
  if (ONLY !== 'tunelab' && !existsSync(PEER_BIN)) {
    if (ONLY === 'promptfoo') fail('promptfoo is not installed: (cd bench/harness/peer && npm ci)');
    log('bench: promptfoo is not installed (cd bench/harness/peer && npm ci): tunelab only');
  } else if (ONLY !== 'tunelab') {
    const N = PEER_N;
    const dir = join(scratch, `promptfoo-${N}`);
    mkdirSync(dir, { recursive: true });
    writeCases(dir, N, true);
    writePromptfooConfig(dir, server.baseURL);
    const home = join(dir, 'pf-home');
    mkdirSync(home, { recursive: true });
    const env = {
      ...baseEnv,
      HOME: home,
      XDG_CONFIG_HOME: join(home, '.config'),
      XDG_CACHE_HOME: join(home, '.cache'),
      PROMPTFOO_CONFIG_DIR: join(home, 'promptfoo'),
      PROMPTFOO_CACHE_PATH: join(home, 'cache'),
      PROMPTFOO_LOG_DIR: join(home, 'logs'),
      PROMPTFOO_CACHE_ENABLED: 'false',
      PROMPTFOO_DISABLE_TELEMETRY: '1',
      PROMPTFOO_DISABLE_UPDATE: '1',
      PROMPTFOO_DISABLE_SHARING: '1',
      PROMPTFOO_DISABLE_REMOTE_GENERATION: '1',
      PROMPTFOO_DISABLE_REDTEAM_REMOTE_GENERATION: '1',
      PROMPTFOO_DISABLE_SHARE_EMAIL_REQUEST: '1',
      OPENAI_API_KEY: 'bench-not-a-secret',
      NO_COLOR: '1',
      FORCE_COLOR: '0',
      BENCH_BLOCKED_LOG: join(dir, 'peer-blocked.log'),
      NODE_OPTIONS: `--require ${join(HERE, 'block-net.cjs')}`,
    };
    log('bench: promptfoo --version ×3');
    results.promptfooStart = await startTime(process.execPath, [PEER_BIN, '--version'], env, 3);
    const before = await server.stats();
    const loadBefore = loadAvg();
    log(`bench: promptfoo eval${PEER_NO_WRITE ? ' --no-write' : ''}, ${N} cases … (load ${loadBefore?.join(' ')})`);
    const args = [
      PEER_BIN,
      'eval',
      '-c',
      'promptfooconfig.yaml',
      '--no-cache',
      '-j',
      String(C),
      '--no-progress-bar',
      '--no-table',
      '--no-share',
    ];
    if (PEER_NO_WRITE) args.push('--no-write');
    const r = await measure(process.execPath, args, { env, cwd: dir, stdoutFile: join(dir, 'promptfoo-stdout.txt') });
    const after = await server.stats();
    if (r.code !== 0 && r.code !== 100) {
      log(r.stdout.slice(-2000) + r.stderr.slice(-3000));
      throw new Error(`promptfoo eval exited ${r.code}`);
    }
    const text = r.stdout + r.stderr;
    // pass count from promptfoo's own results database (its stdout summary can be cut off at exit)
    let passed = Number(/([\d,]+) passed/i.exec(text)?.[1]?.replace(/,/g, '') ?? NaN);
    const pfDb = join(home, 'promptfoo', 'promptfoo.db');
    if (existsSync(pfDb)) {
      try {
        const { default: Database } = await import(join(ROOT, 'node_modules/better-sqlite3/lib/index.js'));
        const db = new Database(pfDb, { readonly: true });
        const row = db.prepare('SELECT COUNT(*) AS n, SUM(success) AS ok FROM eval_results').get();
        db.close();
        if (row && row.n === N) passed = row.ok;
      } catch {}
    }
    let blocked = [];
    try {
      blocked = readFileSync(join(dir, 'peer-blocked.log'), 'utf8').trim().split('\n').filter(Boolean);
    } catch {}
    results.promptfoo = {
      ...sideResult(N, r, before, after, Number.isFinite(passed) ? passed / N : null, { before: loadBefore, after: loadAvg() }),
      writesDb: !PEER_NO_WRITE,
      blockedOutsideConnections: [...new Set(blocked.map((l) => l.split(' ')[1]))],
      blockedCount: blocked.length,
    };
  }
}
let peerDone = false;
try {
  if (ONLY !== 'promptfoo') {
    if (!existsSync(join(dirname(TUNELAB_BIN), '../dist/main.js'))) fail('dist/ is missing: run `npm run build` first');
    const env = { ...baseEnv, NO_COLOR: '1' };
    log('bench: node -e 0 ×5 (baseline), tunelab --version ×5, --help ×3');
    results.nodeStart = await startTime(process.execPath, ['-e', '0'], env, 5);
    results.tunelabStart = await startTime(process.execPath, [TUNELAB_BIN, '--version'], env, 5);
    results.tunelabHelpStart = await startTime(process.execPath, [TUNELAB_BIN, '--help'], env, 3);
    for (const n of SIZES) {
      const dir = join(scratch, `tunelab-${n}`);
      mkdirSync(dir, { recursive: true });
      writeCases(dir, n, false);
      writeTunelabConfig(dir, server.baseURL);
      const profDir = join(dir, 'prof');
      const profArgs = CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${profDir}`] : [];
      const before = await server.stats();
      const loadBefore = loadAvg();
      log(`bench: tunelab run, ${n} cases … (load ${loadBefore?.join(' ')})`);
      const r = await measure(process.execPath, [...profArgs, TUNELAB_BIN, 'run', 'tunelab.yaml', '--no-cache', '--json', '--quiet'], {
        env,
        cwd: dir,
        stdoutFile: join(dir, 'tunelab-stdout.json'),
        timeoutS: maxSecondsAt(n),
      });
      const after = await server.stats();
      let summary = null;
      try {
        summary = JSON.parse(r.stdout);
      } catch {}
      if (!r.killed && ((r.code !== 0 && r.code !== 1) || after.completed - before.completed < n)) {
        log(r.stderr.slice(-3000));
        throw new Error(`tunelab run exited ${r.code} after ${after.completed - before.completed} of ${n} requests`);
      }
      const side = sideResult(n, r, before, after, findAccuracy(summary), { before: loadBefore, after: loadAvg() });
      if (CPU_PROF && existsSync(profDir)) side.profile = summarizeProfiles(profDir);
      results.tunelabBySize.push(side);
      log(
        `bench: ${n} cases: ${side.casesPerS.toFixed(0)} cases/s, ${side.cpuMsPerCase?.toFixed(3)} ms CPU/case, peak ${side.peakRssMb.toFixed(0)} MB${side.partial ? ` (stopped after ${maxSecondsAt(n)} s, ${side.casesDone} cases done)` : ''}, load ${side.load.after?.join(' ')}`,
      );
      if (!KEEP) rmSync(dir, { recursive: true, force: true });
      // promptfoo right after tunelab's run of the same size: both under the same load
      if (n === PEER_N && ONLY !== 'tunelab') {
        await runPeer();
        peerDone = true;
      }
    }
    results.tunelab = results.tunelabBySize.find((x) => x.cases === PEER_N) ?? results.tunelabBySize[0];
  }

  if (!peerDone && ONLY !== 'tunelab') await runPeer();
} finally {
  server.child.kill('SIGTERM');
}

function findAccuracy(summary) {
  // `tunelab run --json` prints the run summary; look for the arm's metric value wherever it sits
  let found = null;
  const walk = (v) => {
    if (found !== null || !v || typeof v !== 'object') return;
    if (v.metric && typeof v.metric === 'object' && typeof v.metric.value === 'number') {
      found = v.metric.value;
      return;
    }
    if (typeof v.accuracy === 'number') {
      found = v.accuracy;
      return;
    }
    for (const x of Object.values(v)) walk(x);
  };
  walk(summary);
  return found;
}

// ---------- print ----------
const t = results.tunelab;
const p = results.promptfoo;
const f = (x, d = 1) => (typeof x === 'number' && Number.isFinite(x) ? x.toFixed(d) : '-');
const table = (rows) => {
  const w = rows[0].map((_, i) => Math.max(...rows.map((r) => String(r[i]).length)));
  const line = (r) => r.map((c, i) => (i === 0 ? String(c).padEnd(w[i]) : String(c).padStart(w[i]))).join('   ');
  return rows.map(line);
};
const out = [`tunelab bench harness: concurrency ${C}, instant local server, cache off, ${process.version}`];
if (results.tunelabBySize.length) {
  const base = results.tunelabBySize.find((x) => x.cases === 10000) ?? results.tunelabBySize[0];
  out.push('', 'tunelab by size:');
  out.push(
    ...table([
      [
        'cases',
        'cases/s',
        'wall (s)',
        'CPU (ms/case)',
        'peak RSS (MB)',
        'server requests',
        'accuracy',
        'load 1-min (before/after)',
        `vs ${base.cases}`,
      ],
      ...results.tunelabBySize.map((x) => [
        `${x.cases}${x.partial ? ` (${x.casesDone} done in ${maxSecondsAt(x.cases)} s)` : ''}`,
        f(x.casesPerS, 0),
        f(x.wallS, 1),
        f(x.cpuMsPerCase, 3),
        f(x.peakRssMb, 0),
        x.serverRequests,
        f(x.accuracy, 3),
        `${f(x.load?.before?.[0], 1)}/${f(x.load?.after?.[0], 1)}`,
        x === base ? '' : `${f((x.casesPerS / base.casesPerS) * 100, 0)}% cases/s, ${f(x.peakRssMb / base.peakRssMb, 2)}× RSS`,
      ]),
    ]),
  );
  const big = results.tunelabBySize.find((x) => x.cases === 1000000);
  if (big && base.cases === 10000) {
    const goals = [
      ['cases/s at 1M within 15% of 10k', big.casesPerS >= 0.85 * base.casesPerS],
      ['peak RSS at 1M within 1.5× of 10k', big.peakRssMb <= 1.5 * base.peakRssMb],
    ];
    out.push(
      'scale goals: ' +
        goals.map(([g, ok]) => `${ok ? 'MET' : 'MISSED'} ${g}`).join(' · ') +
        (big.partial ? ' (1M stopped early: figures per case done)' : ''),
    );
  }
}
if (p || t) {
  out.push('', `tunelab vs promptfoo at ${PEER_N} cases:`);
  out.push(
    ...table([
      ['', 'tunelab', 'promptfoo 0.121.20', 'ratio'],
      ['cases/s', f(t?.casesPerS, 0), f(p?.casesPerS, 0), t && p ? `${f(t.casesPerS / p.casesPerS)}× faster` : '-'],
      ['wall time (s)', f(t?.wallS, 2), f(p?.wallS, 2), ''],
      ['peak RSS (MB)', f(t?.peakRssMb, 0), f(p?.peakRssMb, 0), t && p ? `${f(t.peakRssMb / p.peakRssMb, 2)} of peer` : '-'],
      [
        'CPU (ms/case)',
        f(t?.cpuMsPerCase, 2),
        f(p?.cpuMsPerCase, 2),
        t && p && t.cpuMsPerCase ? `${f(p.cpuMsPerCase / t.cpuMsPerCase)}× less` : '-',
      ],
      ['server requests', t?.serverRequests ?? '-', p?.serverRequests ?? '-', ''],
      ['accuracy', f(t?.accuracy, 3), f(p?.accuracy, 3), ''],
      [
        'load 1-min (before/after)',
        `${f(t?.load?.before?.[0], 1)}/${f(t?.load?.after?.[0], 1)}`,
        `${f(p?.load?.before?.[0], 1)}/${f(p?.load?.after?.[0], 1)}`,
        '',
      ],
      [
        '--version (s, median)',
        f(results.tunelabStart?.medianS, 3),
        f(results.promptfooStart?.medianS, 3),
        results.tunelabStart && results.promptfooStart
          ? `${f(results.promptfooStart.medianS / results.tunelabStart.medianS)}× faster`
          : '-',
      ],
      ['--version CPU (s, median)', f(results.tunelabStart?.cpuMedianS, 3), f(results.promptfooStart?.cpuMedianS, 3), ''],
      ['--help (s, median)', f(results.tunelabHelpStart?.medianS, 3), '', ''],
      ['node -e 0 (s, median)', f(results.nodeStart?.medianS, 3), '', 'bare Node start, for scale'],
    ]),
  );
}
if (p)
  out.push(
    `promptfoo ${p.writesDb ? 'wrote its SQLite results DB (default)' : 'ran with --no-write'}; outside connections refused: ${p.blockedCount}${p.blockedOutsideConnections.length ? ` (${p.blockedOutsideConnections.join(', ')})` : ''}`,
  );
if (t && p) {
  const goals = [
    [`cases/s ≥ 10× promptfoo`, t.casesPerS >= 10 * p.casesPerS],
    [`peak RSS ≤ 1/3 of promptfoo`, t.peakRssMb <= p.peakRssMb / 3],
    [`CLI start < 0.3 s`, results.tunelabStart.medianS < 0.3],
  ];
  out.push('goals: ' + goals.map(([g, ok]) => `${ok ? 'MET' : 'MISSED'} ${g}`).join(' · '));
}
for (const x of results.tunelabBySize) {
  if (!x.profile) continue;
  out.push(`tunelab CPU profile at ${x.cases} cases (self time, ${f(x.profile.totalMs, 0)} ms sampled):`);
  for (const y of x.profile.top.slice(0, 15)) out.push(`  ${f(y.ms, 0).padStart(7)} ms ${f(y.share * 100).padStart(5)}%  ${y.fn}`);
}
process.stdout.write(out.join('\n') + '\n');
if (JSON_OUT) writeFileSync(JSON_OUT, JSON.stringify(results, null, 2) + '\n');
writeFileSync(join(scratch, 'results.json'), JSON.stringify(results, null, 2) + '\n');
if (!KEEP) rmSync(scratch, { recursive: true, force: true });
else log(`bench: kept ${scratch}`);
process.exit(0);
