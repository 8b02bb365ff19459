// The terminal report of a demo-like stored run (six arms, fine-tuned models under long local paths,
// a warning) fits 100 columns, line by line; fine-tuned models show as lora@3d0fdd.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { renderTable } from '../../src/report/index.ts';
import { openForReading, reportWithEvidence } from '../../src/view/index.ts';
import { twoRunStore } from './fixture-store.ts';

test('terminal report of a demo-like stored run fits 100 columns', () => {
  const { dir, path, runs } = twoRunStore();
  const s = openForReading(path);
  try {
    const report = reportWithEvidence(s, runs[0]);
    const text = renderTable(report);
    const wide = text.split('\n').filter((l) => [...l].length > 100);
    assert.deepEqual(wide, [], 'every line within 100 columns');
    assert.match(text, /lora@3d0fdd/);
    assert.match(text, /full@9b1e44/);
    assert.doesNotMatch(text, /_finetuned/, 'no absolute model paths in the table');
    assert.match(text, /Examples where arms disagree or \S+ fails: 5 of \d+/);
    assert.equal(text.split('split: 3 near-duplicate').length - 1, 1, 'the warning prints once');
    assert.equal(report.evidence?.examples.length, 60);
    assert.ok(report.evidence?.prompts.every((p) => p.messages?.length));
    assert.equal(report.evidence?.curves.length, 3);
  } finally {
    s.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
