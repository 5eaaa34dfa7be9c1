// Shared by the browser suites: the static server for dist/, one headless Chromium per suite
// file, and helpers to open the app, read test ids, take screenshots and run the CLI.
//
// `useApp()` registers the suite's before/after hooks. Screenshots go to artifacts/; timings
// are merged into artifacts/timings.json.

import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = path.dirname(fileURLToPath(import.meta.url));
export const root = path.resolve(here, '../..');
export const dist = process.env.SQUADKIT_DIST || path.join(root, 'dist');
export const shared = process.env.SQUADKIT_SHARED_DATA || path.resolve(root, '../shared/data');
export const artifacts = path.join(here, 'artifacts');
export const tiny = path.join(root, 'examples/tiny');
export const devSet = path.join(shared, 'dev-v2.0.json');
export const bertPreds = path.join(shared, 'predictions/bert-single-google-v2.0-dev.json');
export const tokenizerJson = path.join(shared, 'roberta-base/tokenizer.json');

export const timings = {};
/** The app's server and browser, set by `useApp()`'s before hook. */
export const app = { base: null, browser: null, server: null };

// --- the static server: dist/ with SPA fallback to index.html --------------------------------
const types = { '.html': 'text/html', '.js': 'text/javascript', '.wasm': 'application/wasm', '.css': 'text/css', '.svg': 'image/svg+xml', '.json': 'application/json' };

function serve() {
  return new Promise((resolve) => {
    const s = http.createServer((req, res) => {
      const url = new URL(req.url, 'http://x');
      let file = path.join(dist, path.normalize(decodeURIComponent(url.pathname)).replace(/^([/\\])+/, ''));
      if (!file.startsWith(dist) || !fs.existsSync(file) || fs.statSync(file).isDirectory()) {
        file = path.join(dist, 'index.html');
      }
      res.writeHead(200, { 'content-type': types[path.extname(file)] || 'application/octet-stream' });
      fs.createReadStream(file).pipe(res);
    });
    s.listen(0, '127.0.0.1', () => resolve(s));
  });
}

// --- helpers ------------------------------------------------------------------------------
export const tid = (id) => `[data-testid="${id}"]`;

/** A page with the app loaded; `late` collects every request made after the load. */
export async function openApp({ viewport = { width: 1280, height: 900 }, url = '/', ready = 'dataset-row' } = {}) {
  const context = await app.browser.newContext({ viewport, acceptDownloads: true });
  const page = await context.newPage();
  const late = [];
  const requests = [];
  let loaded = false;
  page.on('request', (r) => {
    if (/^(data|blob):/.test(r.url())) return;
    requests.push(r.url());
    if (loaded) late.push(r.url());
  });
  const failed = [];
  page.on('response', (r) => { if (r.status() >= 400) failed.push(`${r.status()} ${r.url()}`); });
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  const t0 = Date.now();
  await page.goto(app.base + url);
  await page.waitForSelector(tid(ready));
  timings.demo_first_view_ms ??= Date.now() - t0;
  loaded = true;
  return { page, late, requests, errors, failed, context, close: () => context.close() };
}

/** Requests that are not the app's own model-worker files (the only ones fetched after the
 * load, when the Ask view opens). */
export function foreign(urls) {
  return urls.filter((u) => !(u.startsWith(app.base) && /\/squadkit-worker[^/]*\.(js|wasm)$/.test(u)));
}

export function skip(t, what, file) {
  if (fs.existsSync(file)) return false;
  console.log(`SKIPPED: ${what}: ${file} is absent`);
  t.skip(`${file} is absent`);
  return true;
}

export async function text(page, id) {
  return (await page.locator(tid(id)).first().textContent()).trim();
}

export async function shot(page, name) {
  await page.screenshot({ path: path.join(artifacts, `${name}.png`), fullPage: true });
}

/** ms from the `change` of input `id` to the first animation frame where `ready` holds;
 * `ready` must set `window.__t1 = performance.now()` when it returns true. */
export async function timeChange(page, id, files, ready) {
  await page.evaluate((id) => {
    window.__t0 = null;
    document.addEventListener('change', (e) => { if (e.target.dataset?.testid === id) window.__t0 = performance.now(); }, { capture: true, once: true });
  }, id);
  await page.locator(tid(id)).setInputFiles(files);
  await page.waitForFunction(ready, null, { polling: 'raf', timeout: 30000 });
  return Math.round(await page.evaluate(() => window.__t1 - window.__t0));
}

/** ms from setting the slider to the first frame where the threshold and score are shown. */
export async function timeSlider(page, pos, expectThreshold) {
  await page.evaluate(() => { window.__t0 = performance.now(); });
  await page.locator(tid('threshold-slider')).fill(String(pos));
  const h = await page.waitForFunction((t) => document.querySelector('[data-testid="threshold-value"]').textContent === t
    ? performance.now() - window.__t0 : false, expectThreshold, { polling: 'raf' });
  return Math.round(await h.jsonValue());
}

export function json(name, value) {
  return { name, mimeType: 'application/json', buffer: Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)) };
}

export const squadkitBin = process.env.SQUADKIT_BIN || path.join(process.env.CARGO_TARGET_DIR || path.join(root, 'target'), 'debug/squadkit');

/** `squadkit evaluate` as the CLI prints it (JSON), or null when the binary is not built. */
export function cli(args) {
  if (!fs.existsSync(squadkitBin)) {
    console.log(`SKIPPED: comparison with the CLI: ${squadkitBin} is not built`);
    return null;
  }
  return JSON.parse(execFileSync(squadkitBin, ['evaluate', ...args, '--format', 'json'], { cwd: root }).toString());
}

/** Run `squadkit ARGS` (stderr shown on failure); false when the binary is not built. */
export function squadkit(args) {
  if (!fs.existsSync(squadkitBin)) {
    console.log(`SKIPPED: comparison with the CLI: ${squadkitBin} is not built`);
    return false;
  }
  execFileSync(squadkitBin, args, { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
  return true;
}


/** The suite's server and browser, started before its tests and closed after them. */
export function useApp({ recordTimings = true } = {}) {
  before(async () => {
    assert.ok(fs.existsSync(path.join(dist, 'index.html')), `no ${dist}/index.html: run \`trunk build --release\` first`);
    fs.mkdirSync(artifacts, { recursive: true });
    app.server = await serve();
    app.base = `http://127.0.0.1:${app.server.address().port}`;
    app.browser = await chromium.launch({
      executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
        '--disable-component-update', '--disable-sync'],
    });
  });
  after(async () => {
    await app.browser?.close();
    app.server?.close();
    if (recordTimings && Object.keys(timings).length) {
      const file = path.join(artifacts, 'timings.json');
      const old = fs.existsSync(file) ? JSON.parse(fs.readFileSync(file)) : {};
      fs.writeFileSync(file, JSON.stringify({ ...old, ...timings }, null, 2) + '\n');
      console.log('# timings', JSON.stringify(timings));
    }
  });
}
