// `tunelab advise` end to end: recomputes a stored run's recommendation under another volume, calls no
// model, and leaves the store file as it was (advise opens it read-only, like `tunelab report`).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { openStore } from '../../src/store/index.ts';
import { writeRun } from '../view/fixture-store.ts';
import { cli, cleanup, project } from './helpers.ts';

const sha = (p: string) => createHash('sha256').update(readFileSync(p)).digest('hex');

test('advise on a stored run: a recommendation from a read-only store, file unchanged, volume changes the cost', async () => {
  const d = project({});
  try {
    const db = join(d, 'tunelab.db');
    const store = openStore(db);
    writeRun(store, { n: 40 });
    store.close();
    const before = sha(db);
    const r = await cli(['advise', 'latest', '--store', db, '--format', 'json', '--volume', '1000'], { cwd: d });
    assert.ok(r.code === 0 || r.code === 1, r.stderr);
    const out = JSON.parse(r.stdout) as { runId: string; decision: { settings: { requestsPerMonth: number } } };
    assert.match(out.runId, /^20261205-/);
    assert.equal(out.decision.settings.requestsPerMonth, 1000);
    assert.equal(sha(db), before, 'advise changed the store file');
  } finally {
    cleanup(d);
  }
});
