// `tunelab view` in a real headless Chromium (Debian's /usr/bin/chromium via playwright-core): a store
// with two runs; filter to "arms disagree"; one example with each arm's output and messages; compare
// the two runs; live progress while a run writes the store; screenshots at 1400 and 390 px with no
// horizontal scroll.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startViewServer } from '../../src/view/index.ts';
import { openStore } from '../../src/store/index.ts';
import { addResults, twoRunStore, writeRun } from './fixture-store.ts';

const CHROMIUM = '/usr/bin/chromium';
const skip = existsSync(CHROMIUM)
  ? false
  : `${CHROMIUM} is absent: install it with \`apt-get install -y chromium\` to run the browser test`;
export const SHOTS = join(tmpdir(), 'tunelab-view-shots');

test('tunelab view: runs, disagreements, one example, compare, live progress, 1400 and 390 px', { skip, timeout: 120_000 }, async () => {
  const { dir, path, runs } = twoRunStore();
  const srv = await startViewServer({ storePath: path, port: 0, pollMs: 150 });
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
  rmSync(SHOTS, { recursive: true, force: true });
  mkdirSync(SHOTS, { recursive: true });
  const writer = openStore(path, { env: {} });
  try {
    const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
    const page = await context.newPage();
    const problems: string[] = [];
    const outside: string[] = [];
    page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(`console: ${m.text()}`);
    });
    page.on('request', (r) => {
      if (!r.url().startsWith(srv.url)) outside.push(r.url());
    });
    const noHorizontalScroll = async (label: string) => {
      const w = await page.evaluate(() => ({
        scroll: document.documentElement.scrollWidth,
        client: document.documentElement.clientWidth,
        body: document.body.scrollWidth,
      }));
      assert.ok(w.scroll <= w.client && w.body <= w.client, `${label}: horizontal scroll (${JSON.stringify(w)})`);
    };
    const shoot = async (name: string) => {
      for (const width of [1400, 390]) {
        await page.setViewportSize({ width, height: 900 });
        await page.waitForTimeout(50);
        await noHorizontalScroll(`${name} at ${width}px`);
        await page.screenshot({ path: join(SHOTS, `${name}-${width}.png`), fullPage: true });
      }
      await page.setViewportSize({ width: 1400, height: 900 });
    };

    // runs list, with both runs
    await page.goto(srv.url);
    await page.waitForSelector(`#runs tr[data-run="${runs[1]}"]`);
    assert.equal(await page.locator('#runs tbody tr').count(), 2);
    await shoot('runs');

    // run page: arms table and chart
    await page.goto(`${srv.url}#/run/${encodeURIComponent(runs[1])}`);
    await page.waitForSelector('#arms-table tbody tr');
    assert.equal(await page.locator('#arms-table tbody tr').count(), 6);
    await shoot('run');

    // example browser: filter to "arms disagree"
    await page.goto(`${srv.url}#/run/${encodeURIComponent(runs[1])}/examples`);
    await page.waitForSelector('#ex-count');
    const all = await page.locator('#ex-count').textContent();
    assert.match(all ?? '', /^60 examples/);
    await page.check('#f-disagree');
    await page.waitForFunction(() => !/^60 /.test(document.querySelector('#ex-count')?.textContent ?? ''));
    const api = (await (await fetch(`${srv.url}api/runs/${encodeURIComponent(runs[1])}/examples?disagree=1&limit=1000`)).json()) as {
      total: number;
      examples: { disagree: boolean }[];
    };
    assert.ok(api.total > 0 && api.total < 60);
    assert.ok(api.examples.every((e) => e.disagree));
    assert.match((await page.locator('#ex-count').textContent()) ?? '', new RegExp(`^${api.total} example`));
    assert.equal(await page.locator('tr.ex-row').count(), api.total);
    assert.match((await page.getAttribute('#csv', 'href')) ?? '', /disagree=1.*format=csv/);
    await shoot('examples-disagree');

    // one example: each arm's output and the messages it sent
    await page.locator('tr.ex-row a').first().click();
    await page.waitForSelector('.arm-out');
    assert.equal(await page.locator('.arm-out').count(), 6);
    for (const arm of ['zero-shot', 'few-shot', 'lora']) {
      const box = page.locator(`.arm-out[data-arm="${arm}"]`);
      assert.match((await box.locator('pre.output').textContent()) ?? '', /^(spam|ham)$/);
      const roles = await box.locator('.messages .msg .role').allTextContents();
      assert.equal(roles[0], 'system');
      assert.equal(roles.at(-1), 'user');
      if (arm === 'few-shot') assert.ok(roles.includes('assistant'), 'few-shot sent a demonstration');
    }
    assert.match((await page.locator('#source-link').textContent()) ?? '', /emails\.jsonl:\d+/);
    await shoot('example');

    // compare the two runs
    await page.goto(`${srv.url}#/compare/${encodeURIComponent(runs[0])}/${encodeURIComponent(runs[1])}`);
    await page.waitForSelector('#cmp-arms tbody tr');
    assert.equal(await page.locator('#cmp-arms tbody tr').count(), 6);
    assert.ok((await page.locator('tr.cmp-row').count()) > 0, 'some examples changed between the runs');
    await shoot('compare');

    // fine-tune page: loss curves
    await page.goto(`${srv.url}#/run/${encodeURIComponent(runs[1])}/finetune`);
    await page.waitForSelector('.ft-arm svg.loss');
    assert.equal(await page.locator('.ft-arm').count(), 3);
    await shoot('finetune');

    // live progress while a run writes the store
    await page.goto(srv.url);
    const live = writeRun(writer, { shift: 2, partialArm: 3 });
    const cell = page.locator(`td.progress[data-run="${live.runId}"] .progress-text`);
    await cell.waitFor();
    const before = await cell.textContent();
    assert.equal(before, `${3 * 60 + 20}/${6 * 60}`);
    addResults(writer, live.runId, 'lora', live.test, 20, 50);
    await page.waitForFunction(
      ([sel, old]) => document.querySelector(sel)?.textContent !== old,
      [`td.progress[data-run="${live.runId}"] .progress-text`, before] as const,
      { timeout: 10_000 },
    );
    assert.equal(await cell.textContent(), `${3 * 60 + 50}/${6 * 60}`);

    assert.deepEqual(problems, []);
    assert.deepEqual(outside, [], 'no request leaves the viewer');
    await context.close();
  } finally {
    writer.close();
    await browser.close();
    await srv.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
