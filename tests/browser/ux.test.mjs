// The usability suite (issue 17): one test per numbered item of the issue, each of which
// failed on the app before it was fixed, plus the layout at phone size (390×844), an axe-core
// accessibility run on every view, and screenshots of every view at 1366×900 and 390×844
// (artifacts/ux-*.png). Helpers are in lib.mjs.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { useApp, app, openApp, tid, text, shot, json, cli, tiny, foreign } from './lib.mjs';

useApp({ recordTimings: false });

const require = createRequire(import.meta.url);
const axeSource = fs.readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
const dev = JSON.parse(fs.readFileSync(path.join(tiny, 'dev.json')));
const preds = JSON.parse(fs.readFileSync(path.join(tiny, 'predictions.json')));
const qas = dev.data.flatMap((a) => a.paragraphs.flatMap((p) => p.qas));
const phone = { width: 390, height: 844 };
const laptop = { width: 1366, height: 900 };
const views = ['dataset', 'evaluate', 'compare', 'tokenization', 'training', 'ask'];

/** A metrics log as `squadkit train` writes it (wall_time, a constant seed, train and eval). */
function metricsLog(scale = 1) {
  const lines = [];
  for (let s = 1; s <= 30; s++) {
    lines.push({ event: 'train', step: s * 10, epoch: s / 15, wall_time: s * 12, seed: 42, loss: scale * 3 / s, learning_rate: 3e-5 * (1 - s / 30), grad_norm: 5 + Math.sin(s) });
  }
  lines.push({ event: 'eval', step: 150, epoch: 1, wall_time: 200, seed: 42, eval_exact: 70.2, eval_f1: 73.9 });
  lines.push({ event: 'eval', step: 300, epoch: 2, wall_time: 390, seed: 42, eval_exact: 75.1, eval_f1: 78.4 });
  return lines.map((l) => JSON.stringify(l)).join('\n') + '\n';
}

/** Drop `files` ({name, text}) on the page, as a user dragging them from the desktop. */
async function drop(page, files) {
  const dt = await page.evaluateHandle((fs) => {
    const d = new DataTransfer();
    for (const f of fs) d.items.add(new File([f.text], f.name));
    return d;
  }, files);
  await page.dispatchEvent('.app', 'drop', { dataTransfer: dt });
}

/** The tiny dev set repeated `times` times (new ids), and predictions for it. */
function repeated(times) {
  const data = [];
  const p = {};
  for (let k = 0; k < times; k++) {
    for (const a of dev.data) {
      data.push({ title: `${a.title} ${k}`, paragraphs: a.paragraphs.map((par) => ({ ...par, qas: par.qas.map((q) => {
        p[`${q.id}-${k}`] = preds[q.id];
        return { ...q, id: `${q.id}-${k}` };
      }) })) });
    }
  }
  return { dataset: { version: 'v2.0', data }, predictions: p };
}

/** Whether the element with test id `id` is (at least partly) on screen. */
function onScreen(page, id) {
  return page.evaluate((id) => {
    const r = document.querySelector(`[data-testid="${id}"]`).getBoundingClientRect();
    return r.top < innerHeight && r.bottom > 0;
  }, id);
}

function tmpFile(name, value) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'squadkit-ux-'));
  const file = path.join(dir, name);
  fs.writeFileSync(file, JSON.stringify(value));
  return file;
}

test('1. Compare scores B with its own na_probs, never with A\'s', async () => {
  const { page, late, close } = await openApp();
  // A (the demo) has its na_probs; B gets its own: 2.0 for every question, above the
  // threshold 1.0, so every answer of B is withdrawn and B scores exactly the no-answer share.
  const nb = Object.fromEntries(Object.keys(preds).map((id) => [id, 2.0]));
  await page.locator(tid('tab-compare')).click();
  await page.locator(tid('predictions-b-file')).setInputFiles(json('b.json', preds));
  await page.waitForSelector(tid('compare-delta'));
  const bExact = async () => (await page.locator(`${tid('compare-delta')} tbody tr`).first().locator('td').nth(1).textContent()).trim();
  const asPredicted = await bExact();
  assert.match(await text(page, 'compare-scored-with'), /B: b\.json as predicted/);
  await page.locator(tid('na-probs-b-file')).setInputFiles(json('nb.json', nb));
  await page.waitForFunction((before) => document.querySelector('[data-testid="compare-delta"] tbody tr td:nth-of-type(2)').textContent !== before, asPredicted);
  const noAnswers = qas.filter((q) => q.is_impossible).length;
  assert.equal(await bExact(), (100 * noAnswers / qas.length).toFixed(2));
  assert.equal(await text(page, 'predictions-b-file-name'), 'b.json');
  assert.equal(await text(page, 'na-probs-b-file-name'), 'nb.json');
  assert.match(await text(page, 'compare-scored-with'), /B: b\.json with its na_probs nb\.json/);
  const want = cli(['examples/tiny/dev.json', tmpFile('b.json', preds), '-n', tmpFile('nb.json', nb)]);
  if (want) assert.equal(await bExact(), want.exact.toFixed(2), 'the CLI scores B the same');
  await shot(page, 'ux-1-compare-own-na-probs');
  assert.deepEqual(late, []);
  await close();
});

test('2. Files dropped together are routed by content, not read as vocab.json + merges.txt', async () => {
  const { page, late, close } = await openApp();
  const na = fs.readFileSync(path.join(tiny, 'na_probs.json'), 'utf8');
  await drop(page, [{ name: 'p.json', text: JSON.stringify(preds) }, { name: 'n.json', text: na }]);
  await page.waitForFunction(() => /p\.json \+ n\.json/.test(document.querySelector('[data-testid="loaded-names"]')?.textContent));
  assert.equal(await text(page, 'error-message'), '');
  // Predictions listed before their dataset: the dataset still opens first.
  await drop(page, [{ name: 'q.json', text: JSON.stringify(preds) }, { name: 'd.json', text: JSON.stringify(dev) }]);
  await page.waitForFunction(() => /^d\.json .* · q\.json$/.test(document.querySelector('[data-testid="loaded-names"]')?.textContent));
  assert.equal(await text(page, 'error-message'), '');
  assert.deepEqual(late, []);
  await close();
});

test('3. A clicked row\'s detail is scrolled into view', async () => {
  const { page, late, close } = await openApp();
  const { dataset, predictions } = repeated(6);
  await page.locator(tid('dataset-file')).setInputFiles(json('big.json', dataset));
  await page.waitForFunction(() => document.querySelector('[data-testid="stat-questions"]')?.textContent === '72');
  await page.locator(tid('dataset-row')).first().click();
  await page.waitForSelector(tid('example-detail'));
  await page.waitForFunction(() => document.querySelector('[data-testid="example-detail"]').getBoundingClientRect().top < innerHeight);
  assert.ok(await onScreen(page, 'example-detail'), 'the dataset detail is on screen');
  await page.locator(tid('predictions-file')).setInputFiles(json('big-preds.json', predictions));
  await page.locator(tid('tab-evaluate')).click();
  await page.waitForSelector(tid('question-row'));
  await page.evaluate(() => scrollTo(0, 0));
  await page.locator(tid('question-row')).nth(1).click();
  await page.waitForSelector(tid('question-detail'));
  await page.waitForFunction(() => document.querySelector('[data-testid="question-detail"]').getBoundingClientRect().top < innerHeight);
  assert.ok(await onScreen(page, 'question-detail'), 'the evaluate detail is on screen');
  assert.deepEqual(late, []);
  await close();
});

test('4. At 390 px nothing overflows and every tab can be tapped; screenshots of every view at both sizes', async () => {
  for (const viewport of [phone, laptop]) {
    const { page, late, close } = await openApp({ viewport });
    const size = `${viewport.width}`;
    await page.locator(tid('tab-training')).click();
    await page.locator(tid('metrics-file')).setInputFiles({ name: 'run.jsonl', mimeType: 'text/plain', buffer: Buffer.from(metricsLog()) });
    await page.waitForSelector(tid('metric-chart'));
    await page.locator(tid('tab-compare')).click();
    await page.locator(tid('predictions-b-file')).setInputFiles(json('b.json', { ...preds, [qas[0].id]: '' }));
    await page.waitForSelector(tid('compare-delta'));
    if (viewport === phone) {
      const top = await page.locator('[role="tablist"]').evaluate((e) => e.getBoundingClientRect().top);
      assert.ok(top < viewport.height / 3, `the tabs start in the first third of the screen (at ${top} px)`);
    }
    for (const v of views) {
      const tab = page.locator(tid(`tab-${v}`));
      const box = await tab.boundingBox();
      assert.ok(box.x >= 0 && box.x + box.width <= viewport.width, `tab ${v} is on screen: ${JSON.stringify(box)}`);
      await tab.click();
      await page.waitForFunction((v) => document.querySelector(`[data-testid="tab-${v}"]`).getAttribute('aria-selected') === 'true', v);
      if (v === 'dataset') await page.locator(tid('dataset-row')).first().click();
      if (v === 'evaluate') await page.locator(tid('question-row')).first().click();
      await page.waitForTimeout(50);
      const [sw, iw] = await page.evaluate(() => [document.documentElement.scrollWidth, innerWidth]);
      assert.ok(sw <= iw, `${v} at ${size} px: the page is ${sw} px wide`);
      await shot(page, `ux-${v}-${size}`);
    }
    assert.deepEqual(foreign(late), [], 'after the load, only the Ask view\'s model worker is fetched');
    await close();
  }
});

test('5. The view and question are in the URL; Back works; scores, the table and charts export', async () => {
  let { page, late, close } = await openApp({ url: '/#evaluate', ready: 'score-card' });
  assert.equal(await page.locator(tid('tab-evaluate')).getAttribute('aria-selected'), 'true');
  await page.locator(tid('tab-compare')).click();
  await page.waitForFunction(() => location.hash === '#compare');
  await page.goBack();
  await page.waitForFunction(() => location.hash === '#evaluate');
  await page.waitForSelector(tid('score-card'));
  // Exports of the evaluation at the current threshold.
  const saved = async (id) => {
    const [download] = await Promise.all([page.waitForEvent('download'), page.locator(tid(id)).click()]);
    return { name: download.suggestedFilename(), text: fs.readFileSync(await download.path(), 'utf8') };
  };
  const scores = await saved('export-scores');
  assert.equal(scores.name, 'predictions.eval.json');
  const card = JSON.parse(scores.text);
  assert.equal(card.exact.toFixed(2), await text(page, 'score-exact'));
  // The app draws the PR curves, so its JSON is the CLI's with `-p` (which adds their APs).
  const images = fs.mkdtempSync(path.join(os.tmpdir(), 'squadkit-ux-'));
  const want = cli(['examples/tiny/dev.json', 'examples/tiny/predictions.json', '-n', 'examples/tiny/na_probs.json', '-p', images]);
  if (want) assert.deepEqual(card, want, 'the CLI\'s JSON');
  const csv = await saved('export-csv');
  const rows = csv.text.trim().split('\r\n');
  assert.equal(rows.length, qas.length + 1);
  assert.match(rows[0], /^id,has_answer,prediction,na_prob,/);
  assert.deepEqual(rows.slice(1).map((r) => r.split(',')[0]), qas.map((q) => q.id));
  const jsonl = await saved('export-jsonl');
  assert.equal(jsonl.text.trim().split('\n').length, qas.length);
  // Charts save as SVG files.
  const [chart] = await Promise.all([page.waitForEvent('download'), page.locator(tid('chart-save')).first().click()]);
  assert.equal(chart.suggestedFilename(), 'PR curve exact.svg');
  const svg = fs.readFileSync(await chart.path(), 'utf8');
  assert.ok(svg.startsWith('<svg') && svg.endsWith('</svg>') && svg.includes('Precision-Recall curve for Exact Match score'));
  // A question's link opens it.
  await page.locator(tid('tab-dataset')).click();
  await page.locator(tid('dataset-row')).nth(2).click();
  await page.waitForFunction((id) => location.hash === `#dataset/q/${id}`, qas[2].id);
  const link = await page.evaluate(() => location.hash);
  assert.deepEqual(late, []);
  await close();
  ({ page, late, close } = await openApp({ url: '/' + link, ready: 'example-detail' }));
  assert.match(await page.locator(tid('example-detail')).textContent(), new RegExp(qas[2].id));
  assert.deepEqual(late, []);
  await close();
});

test('6. What is open is shown, and a new dataset says which predictions it closed', async () => {
  const { page, late, close } = await openApp();
  assert.match(await text(page, 'dataset-file-name'), /\(\d+ questions\)$/);
  assert.equal(await text(page, 'predictions-file-name'), 'predictions.json');
  assert.equal(await text(page, 'na-probs-file-name'), 'na_probs.json');
  await page.locator(tid('dataset-file')).setInputFiles(path.join(tiny, 'dev.json'));
  await page.waitForFunction(() => document.querySelector('[data-testid="notice-message"]')?.textContent !== '');
  assert.match(await text(page, 'notice-message'), /^Opened dev\.json; closed predictions\.json/);
  assert.equal(await text(page, 'predictions-file-name'), 'none open');
  assert.match(await text(page, 'dataset-file-name'), /^dev\.json/);
  await shot(page, 'ux-6-notice');
  assert.deepEqual(late, []);
  await close();
});

test('7. Keyboard: tabs with arrow keys, rows with Enter; axe-core finds nothing serious on any view at either size', async () => {
  const { page, late, close } = await openApp({ viewport: laptop });
  assert.equal(await page.locator('[role="tablist"] [role="tab"]').count(), views.length);
  await page.locator(tid('tab-dataset')).focus();
  await page.keyboard.press('ArrowRight');
  await page.waitForFunction(() => document.activeElement?.id === 'tab-evaluate' && document.activeElement.getAttribute('aria-selected') === 'true');
  await page.keyboard.press('End');
  await page.waitForFunction((last) => document.activeElement?.id === `tab-${last}`, views.at(-1));
  await page.keyboard.press('Home');
  await page.waitForFunction(() => document.activeElement?.id === 'tab-dataset');
  await page.locator(tid('dataset-row')).nth(1).focus();
  await page.keyboard.press('Enter');
  await page.waitForSelector(tid('example-detail'));
  // axe on every view, with its data open.
  await page.addScriptTag({ content: axeSource });
  await page.locator(tid('tab-training')).click();
  await page.locator(tid('metrics-file')).setInputFiles({ name: 'run.jsonl', mimeType: 'text/plain', buffer: Buffer.from(metricsLog()) });
  await page.waitForSelector(tid('metric-chart'));
  const report = [];
  for (const size of [laptop, phone]) {
    await page.setViewportSize(size);
    for (const v of views) {
      await page.locator(tid(`tab-${v}`)).click();
      await page.waitForTimeout(50);
      const violations = await page.evaluate(async () => (await window.axe.run(document, { resultTypes: ['violations'] })).violations
        .filter((x) => x.impact === 'serious' || x.impact === 'critical')
        .map((x) => `${x.id} (${x.impact}): ${x.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(', ')}`));
      report.push(...violations.map((x) => `${v} at ${size.width} px: ${x}`));
    }
  }
  assert.deepEqual(report, []);
  assert.deepEqual(foreign(late), [], 'after the load, only the Ask view\'s model worker is fetched');
  await close();
});

test('8. The threshold and its charts say what they show', async () => {
  const { page, late, close } = await openApp();
  await page.locator(tid('tab-evaluate')).click();
  // Predictions without na_probs: the slider has nothing to act on and says so.
  await page.locator(tid('predictions-file')).setInputFiles(path.join(tiny, 'predictions.json'));
  await page.waitForFunction(() => document.querySelector('[data-testid="threshold-slider"]').disabled);
  assert.match(await text(page, 'threshold-hint'), /No na_prob or null_odds file is open/);
  // Null odds (as squadkit predict and HF write them): the histograms' axis is theirs.
  const odds = Object.fromEntries(qas.map((q, i) => [q.id, -30 + (58 * i) / (qas.length - 1)]));
  await page.locator(tid('na-probs-file')).setInputFiles(json('null_odds.json', odds));
  await page.waitForFunction(() => !document.querySelector('[data-testid="threshold-slider"]').disabled);
  const charts = await page.locator('.charts .chart').evaluateAll((els) => els.map((e) => e.innerHTML));
  const hist = charts.filter((c) => c.includes('Histogram'));
  assert.equal(hist.length, 2);
  for (const h of hist) {
    assert.match(h, /Null odds/);
    assert.doesNotMatch(h, /probability/i);
    assert.match(h, /text-anchor="middle">-\d+</, 'negative ticks');
  }
  const pr = charts.find((c) => c.includes('Precision-Recall curve for F1'));
  const ticks = [...pr.matchAll(/text-anchor="(?:middle|end)"[^>]*>([-\d.e]+)</g)].map((m) => m[1]);
  assert.ok(ticks.includes('0.2') && ticks.includes('1.0'), ticks.join(' '));
  assert.ok(!ticks.includes('1.1') && !ticks.includes('0.21'), ticks.join(' '));
  await shot(page, 'ux-8-null-odds');
  assert.deepEqual(late, []);
  await close();
});

test('9. Loading is shown: before the wasm, while a file is read; no request for a favicon', async () => {
  const context = await app.browser.newContext({ viewport: laptop });
  const page = await context.newPage();
  const requests = [];
  page.on('request', (r) => requests.push(new URL(r.url()).pathname));
  // Hold the wasm back: the page says it is loading meanwhile.
  let release;
  const held = new Promise((r) => { release = r; });
  await page.route('**/*.wasm', async (route) => { await held; await route.continue(); });
  await page.goto(app.base + '/', { waitUntil: 'domcontentloaded' });
  assert.match(await page.locator(tid('boot')).textContent(), /Loading squadkit/);
  release();
  await page.waitForSelector(tid('dataset-row'));
  assert.equal(await page.locator(tid('boot')).count(), 0, 'the loading line is gone once the app is up');
  // Reading and opening a file is announced (recorded by a MutationObserver: it is brief here).
  await page.evaluate(() => {
    window.__busy = [];
    const el = document.querySelector('[data-testid="busy-message"]');
    new MutationObserver(() => { if (el.textContent) window.__busy.push(el.textContent); }).observe(el, { childList: true, characterData: true, subtree: true });
  });
  await page.locator(tid('dataset-file')).setInputFiles(path.join(tiny, 'dev.json'));
  await page.waitForFunction(() => /^dev\.json/.test(document.querySelector('[data-testid="loaded-names"]')?.textContent));
  await page.waitForFunction(() => document.querySelector('[data-testid="busy-message"]')?.textContent === '');
  const busy = await page.evaluate(() => window.__busy);
  assert.ok(busy.some((b) => /^Reading dev\.json \(\d+ kB\)…$/.test(b)), busy.join(' | '));
  assert.ok(busy.some((b) => /^Opening dev\.json/.test(b)), busy.join(' | '));
  assert.ok(!requests.includes('/favicon.ico'), requests.join(' '));
  await context.close();
});

test('10. Charts: nice ticks, runs overlaid, smoothing, log scale, wall time, constants apart, hover values; answers once, search hits marked', async () => {
  const { page, late, close } = await openApp();
  await page.locator(tid('tab-training')).click();
  await page.locator(tid('metrics-file')).setInputFiles([
    { name: 'run-a.jsonl', mimeType: 'text/plain', buffer: Buffer.from(metricsLog(1)) },
    { name: 'run-b.jsonl', mimeType: 'text/plain', buffer: Buffer.from(metricsLog(0.5)) },
  ]);
  await page.waitForFunction(() => /run-b\.jsonl/.test(document.querySelector('[data-testid="metrics-summary"]')?.textContent));
  const alts = await page.locator(tid('metric-chart')).evaluateAll((els) => els.map((e) => e.dataset.alt));
  assert.deepEqual(alts, ['loss', 'eval_exact', 'eval_f1', 'grad_norm', 'learning_rate', 'epoch'], 'loss and evaluation first, seed apart');
  assert.match(await text(page, 'metrics-constants'), /seed = 42/);
  const loss = () => page.locator(tid('metric-chart')).first().evaluate((e) => e.innerHTML);
  let svg = await loss();
  assert.equal((svg.match(/<polyline/g) || []).length, 2, 'two runs overlaid');
  assert.match(svg, /run-a\.jsonl<\/text>/, 'a legend');
  assert.match(svg, /<title>run-b\.jsonl: step = 10, 1\.5<\/title>/, 'hover values');
  // Every axis label is a multiple of a 1-2-5 step.
  for (const chart of await page.locator(tid('metric-chart')).evaluateAll((els) => els.map((e) => e.innerHTML))) {
    const labels = [...chart.matchAll(/dominant-baseline="middle">([-\d.e]+)</g)].map((m) => Number(m[1]));
    assert.ok(labels.length >= 2, chart.slice(0, 200));
    const step = labels[1] - labels[0];
    const mantissa = step / 10 ** Math.floor(Math.log10(step));
    assert.ok([1, 2, 5].some((m) => Math.abs(mantissa - m) < 1e-6), `step ${step} in ${labels.join(' ')}`);
  }
  await page.locator(tid('metrics-smoothing')).fill('0.6');
  await page.waitForFunction(() => document.querySelector('[data-testid="metric-chart"]')?.innerHTML.split('<polyline').length - 1 === 4);
  await page.locator(tid('metrics-log')).check();
  await page.waitForFunction(() => /dominant-baseline="middle">10</.test(document.querySelector('[data-testid="metric-chart"]')?.innerHTML));
  svg = await loss();
  assert.match(svg, />0\.1</, 'powers of ten on a log axis');
  await page.locator(tid('metrics-x')).selectOption('time');
  await page.waitForFunction(() => /wall time \(min\)/.test(document.querySelector('[data-testid="metric-chart"]')?.innerHTML));
  await shot(page, 'ux-10-training-overlay');
  await page.locator(tid('metrics-clear')).click();
  await page.waitForFunction(() => !document.querySelector('[data-testid="metric-chart"]'));
  // Gold answers given three times are listed once.
  const ds = { version: 'v2.0', data: [{ title: 'T', paragraphs: [{ context: 'Paris is in France.', qas: [
    { id: 'r1', question: 'Where?', is_impossible: false, answers: [0, 1, 2].map(() => ({ text: 'France', answer_start: 12 })) }] }] }] };
  await page.locator(tid('tab-dataset')).click();
  await page.locator(tid('dataset-file')).setInputFiles(json('r.json', ds));
  await page.waitForFunction(() => document.querySelector('[data-testid="stat-questions"]')?.textContent === '1');
  assert.equal((await page.locator(`${tid('dataset-row')} td`).last().textContent()).trim(), 'France');
  // Search hits are marked where they are.
  await page.locator(tid('search')).fill('FRAN');
  await page.waitForSelector(`${tid('dataset-row')} mark.hit`);
  assert.deepEqual(await page.locator(`${tid('dataset-row')} mark.hit`).allTextContents(), ['Fran']);
  assert.deepEqual(late, []);
  await close();
});

test('5. What is open survives a reload (IndexedDB) until "Forget opened files"', async () => {
  const { page, late, close } = await openApp();
  await page.locator(tid('dataset-file')).setInputFiles(path.join(tiny, 'dev.json'));
  await page.locator(tid('predictions-file')).setInputFiles(path.join(tiny, 'predictions.json'));
  await page.locator(tid('na-probs-file')).setInputFiles(path.join(tiny, 'na_probs.json'));
  const opened = /^dev\.json \(\d+ questions\) · predictions\.json \+ na_probs\.json$/;
  await page.waitForFunction((re) => new RegExp(re).test(document.querySelector('[data-testid="loaded-names"]')?.textContent), opened.source);
  await page.locator(tid('tab-evaluate')).click();
  await page.waitForTimeout(200); // the writes are queued in the background
  await page.reload();
  await page.waitForFunction(() => /^Reopened dev\.json, predictions\.json, na_probs\.json/.test(document.querySelector('[data-testid="notice-message"]')?.textContent));
  assert.match(await text(page, 'loaded-names'), opened);
  assert.equal(await page.locator(tid('tab-evaluate')).getAttribute('aria-selected'), 'true', 'the tab from the URL');
  await page.locator(tid('storage-clear')).click();
  await page.waitForFunction(() => /no longer keeps/.test(document.querySelector('[data-testid="notice-message"]')?.textContent));
  await page.waitForTimeout(200);
  await page.reload();
  await page.waitForSelector(tid('score-card'));
  assert.doesNotMatch(await text(page, 'loaded-names'), /^dev\.json/, 'the demo again');
  assert.equal(await text(page, 'notice-message'), '');
  assert.deepEqual(late.filter((u) => !u.startsWith(app.base)), [], 'reloads fetch only the app itself');
  await close();
});

test('Reading view: every question of a paragraph with each model\'s answer side by side', async () => {
  const { page, late, close } = await openApp();
  const b = { ...preds, [qas[0].id]: 'an answer of B' };
  await page.locator(tid('tab-compare')).click();
  await page.locator(tid('predictions-b-file')).setInputFiles(json('b.json', b));
  await page.waitForSelector(tid('compare-delta'));
  await page.locator(tid('tab-dataset')).click();
  await page.locator(tid('dataset-row')).first().click();
  await page.waitForSelector(tid('paragraph-questions'));
  const para = dev.data[0].paragraphs[0].qas;
  assert.equal(await page.locator(tid('paragraph-question-row')).count(), para.length);
  const head = await page.locator(`${tid('paragraph-questions')} thead th`).allTextContents();
  assert.deepEqual(head, ['question', 'gold', 'A: predictions.json', 'B: b.json']);
  const first = await page.locator(tid('paragraph-question-row')).first().locator('td').allTextContents();
  assert.equal(first[0], para[0].question);
  assert.equal(first[3], 'an answer of B');
  // A row opens its question.
  await page.locator(tid('paragraph-question-row')).nth(1).click();
  await page.waitForFunction((id) => location.hash === `#dataset/q/${id}`, para[1].id);
  await shot(page, 'ux-reading-view');
  assert.deepEqual(late, []);
  await close();
});
