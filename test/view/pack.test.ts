// The packed tarball installs into an empty folder and runs there: `npm pack`, then `npm i
// ./tunelab-*.tgz --prefer-offline --ignore-scripts` (every tarball from npm's cache; the registry is
// asked only for package lists it has not cached), then `npx tunelab --version` and `npx tunelab init`.
// Scripts are skipped because neither command loads a native module, and better-sqlite3 compiles from
// source for minutes when no prebuilt binary is reachable; the full `npx tunelab demo` from a tarball
// is in the README. Takes about 2 minutes (mostly npm), so it runs when TUNELAB_PACK_TEST=1.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from '../cli/helpers.ts';

const skip = process.env.TUNELAB_PACK_TEST === '1' ? false : 'set TUNELAB_PACK_TEST=1 to pack and install the tarball (about 2 minutes)';

test('npm pack → npm i ./tunelab-*.tgz in an empty folder → tunelab --version and init run there', { skip, timeout: 600_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'tunelab-pack-'));
  try {
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      npm_config_update_notifier: 'false',
      npm_config_fund: 'false',
      npm_config_audit: 'false',
    };
    delete env.NODE_OPTIONS;
    execFileSync('npm', ['pack', '--ignore-scripts', '--pack-destination', dir], { cwd: ROOT, env, stdio: 'pipe' });
    const tgz = readdirSync(dir).find((f) => /^tunelab-.*\.tgz$/.test(f));
    assert.ok(tgz, 'npm pack wrote a tarball');
    const listing = execFileSync('tar', ['-tzf', join(dir, tgz)], { encoding: 'utf8' });
    for (const f of [
      'package/bin/tunelab.mjs',
      'package/dist/main.js',
      'package/web/app.js',
      'package/schema/tunelab.schema.json',
      'package/examples/demo/tunelab.yaml',
      'package/models/tunelab-base/model.safetensors',
      'package/src/finetune/worker-boot.mjs',
    ])
      assert.ok(listing.includes(f + '\n'), `${f} is in the tarball`);
    assert.ok(!listing.includes('package/test/'), 'tests stay out');
    const app = join(dir, 'app');
    execFileSync('mkdir', [app]);
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'try-tunelab', version: '1.0.0', private: true }));
    execFileSync('npm', ['i', '--prefer-offline', '--ignore-scripts', '--no-audit', '--no-fund', join(dir, tgz)], {
      cwd: app,
      env,
      stdio: 'pipe',
      timeout: 540_000,
    });
    const version = execFileSync('npx', ['--no-install', 'tunelab', '--version'], { cwd: app, env, encoding: 'utf8' }).trim();
    assert.equal(version, JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version);
    const init = execFileSync('npx', ['--no-install', 'tunelab', 'init', 'exp'], { cwd: app, env, encoding: 'utf8' });
    assert.match(init, /next: npx tunelab run exp\/tunelab\.yaml/);
    const yaml = readFileSync(join(app, 'exp', 'tunelab.yaml'), 'utf8');
    assert.match(yaml, /^# yaml-language-server: \$schema=\.\.\/node_modules\/tunelab\/schema\/tunelab\.schema\.json\n/);
    assert.ok(existsSync(join(app, 'node_modules', 'tunelab', 'schema', 'tunelab.schema.json')));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
