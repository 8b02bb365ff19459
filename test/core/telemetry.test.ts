// Offline means offline: onnxruntime's telemetry stays off for every session tunelab creates.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';

const root = join(import.meta.dirname, '../..');
// strace present and allowed to trace (containers may forbid ptrace)
const hasStrace = spawnSync('strace', ['-qq', '-o', '/dev/null', 'true']).status === 0;

test(
  'an engine session sets ORT_DISABLE_TELEMETRY=1 and onnxruntime starts no telemetry (no device id read, no collector lookup)',
  { skip: hasStrace ? false : 'strace not installed' },
  () => {
    const dir = mkdtempSync(join(tmpdir(), 'tl-telemetry-'));
    const script = join(dir, 'probe.mts');
    writeFileSync(
      script,
      `import { Graph, compileGraph, runGraph } from ${JSON.stringify(join(root, 'src/engine/index.ts'))};
const g = new Graph();
const x = g.input('x', [2]);
g.output('y', g.add(x, x));
const c = await compileGraph(g);
console.log(process.env.ORT_DISABLE_TELEMETRY, typeof c);
`,
    );
    const trace = join(dir, 'trace.txt');
    const env = { ...process.env };
    delete env.ORT_DISABLE_TELEMETRY;
    const r = spawnSync('strace', ['-f', '-qq', '-e', 'trace=openat,sendto', '-o', trace, process.execPath, '--import', 'tsx', script], {
      cwd: root,
      env,
      encoding: 'utf8',
    });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^1 object/);
    const calls = readFileSync(trace, 'utf8');
    assert.ok(!calls.includes('/etc/machine-id'), 'onnxruntime read the machine id (telemetry on)');
    assert.ok(!/mobile.{0,8}events/.test(calls), 'a DNS query for the telemetry collector');
  },
);
