// The browser half of bench/wasm_model.sh: serves dist/, opens the Ask view in headless
// Chromium and times the model worker's forward pass of one 384-token window (the demo model's
// sizes with 386 positions, and roberta-base's, random weights), printing one JSON line each.
import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..');
const require = createRequire(path.join(root, 'tests/browser/package.json'));
const { chromium } = require('playwright-core');
const dist = process.env.SQUADKIT_DIST || path.join(root, 'dist');
const types = { '.html': 'text/html', '.js': 'text/javascript', '.wasm': 'application/wasm', '.css': 'text/css' };
const server = http.createServer((req, res) => {
  let file = path.join(dist, new URL(req.url, 'http://x').pathname);
  if (!fs.existsSync(file) || fs.statSync(file).isDirectory()) file = path.join(dist, 'index.html');
  res.writeHead(200, { 'content-type': types[path.extname(file)] || 'application/octet-stream' });
  fs.createReadStream(file).pipe(res);
});
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const browser = await chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu'] });
const page = await browser.newPage();
await page.goto(`http://127.0.0.1:${server.address().port}/#ask`);
const tid = (id) => `[data-testid="${id}"]`;
await page.waitForFunction(() => /parameters/.test(document.querySelector('[data-testid="model-info"]')?.textContent ?? ''), null, { timeout: 120000 });
await page.locator('summary', { hasText: 'Speed' }).click();
for (const [button, name] of [['bench-model', 'demo-size'], ['bench-base', 'roberta-base-size']]) {
  await page.locator(tid(button)).click();
  await page.waitForFunction(() => document.querySelector('[data-testid="bench-result"]').textContent.length > 0, null, { timeout: 600000 });
  const r = JSON.parse(await page.locator(tid('bench-result')).textContent());
  console.log(JSON.stringify({ impl: 'chromium-wasm', model: name, ...r }));
}
await browser.close();
server.close();
