// Opens the HTML report in a real headless Chromium (Debian's /usr/bin/chromium via playwright-core),
// offline, from file://, and checks that the charts rendered with no errors and no network traffic.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { renderHtml } from '../../src/report/index.ts';
import { evilReport, fixtureReport } from './fixture.ts';

const CHROMIUM = '/usr/bin/chromium';
const skip = existsSync(CHROMIUM)
  ? false
  : `${CHROMIUM} is absent: install it with \`apt-get install -y chromium\` to run the browser test`;

test('html report renders its charts in a real browser, offline, with no errors or requests', { skip, timeout: 180_000 }, async () => {
  const { chromium } = await import('playwright-core');
  const dir = mkdtempSync(join(tmpdir(), 'tunelab-report-'));
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
  try {
    const context = await browser.newContext({ offline: true, viewport: { width: 1360, height: 900 } });
    for (const [name, report] of [
      ['report', fixtureReport()],
      ['evil', evilReport()],
    ] as const) {
      const file = join(dir, `${name}.html`);
      writeFileSync(file, renderHtml(report));
      const url = pathToFileURL(file).href;
      const page = await context.newPage();
      const problems: string[] = [];
      const requests: string[] = [];
      page.on('console', (m) => {
        if (m.type() === 'error' || m.type() === 'warning') problems.push(`console.${m.type()}: ${m.text()}`);
      });
      page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
      page.on('dialog', (d) => {
        problems.push(`dialog: ${d.message()}`);
        void d.dismiss();
      });
      page.on('request', (r) => {
        if (r.url() !== url) requests.push(r.url());
      });
      await page.goto(url, { waitUntil: 'load' });
      const state = await page.evaluate(() => {
        const w = window as unknown as { Chart?: { instances: Record<string, unknown> } };
        const canvases = [...document.querySelectorAll('canvas')].map((c) => {
          const ctx = (c as HTMLCanvasElement).getContext('2d')!;
          const { data } = ctx.getImageData(0, 0, (c as HTMLCanvasElement).width, (c as HTMLCanvasElement).height);
          let painted = 0;
          for (let i = 3; i < data.length; i += 4) if (data[i] > 0) painted++;
          return { id: c.id, width: (c as HTMLCanvasElement).width, height: (c as HTMLCanvasElement).height, painted };
        });
        return {
          instances: w.Chart ? Object.keys(w.Chart.instances).length : -1,
          flag: document.documentElement.getAttribute('data-charts'),
          canvases,
          heatCells: document.querySelectorAll('table.heat td').length,
          title: document.title,
        };
      });
      assert.deepEqual(problems, [], `${name}: console errors, page errors or dialogs`);
      assert.deepEqual(requests, [], `${name}: network requests`);
      assert.equal(state.instances, 4, `${name}: four Chart instances`);
      assert.equal(state.flag, '4');
      assert.deepEqual(state.canvases.map((c) => c.id).sort(), ['chart-cost', 'chart-diff', 'chart-latency', 'chart-metric']);
      for (const c of state.canvases) {
        assert.ok(c.width > 100 && c.height > 100, `${name}/${c.id}: sized ${c.width}x${c.height}`);
        assert.ok(c.painted > c.width * c.height * 0.01, `${name}/${c.id}: only ${c.painted} painted pixels`);
      }
      assert.equal(state.heatCells, 4 * 3 * 4, 'four 3x3 confusion matrices plus row totals');
      if (name === 'report') {
        await page.evaluate(() => document.querySelectorAll('details').forEach((d) => ((d as HTMLDetailsElement).open = true)));
        const shot = join(tmpdir(), 'tunelab-report.png');
        await page.screenshot({ path: shot, fullPage: true });
        assert.ok(existsSync(shot));
      } else {
        assert.match(state.title, /<img src=x/, 'the malicious name shows as text');
      }
      await page.close();
    }
    await context.close();
  } finally {
    await browser.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
