// End-to-end tests of the squadkit web app (dist/, built by `trunk build --release`) in
// headless Chromium (Debian's /usr/bin/chromium, driven by playwright-core).
//
// Each test opens the app from its own static server on 127.0.0.1, records every request
// after the app's own files have loaded (there must be none), and saves a screenshot of each
// page under artifacts/. Timings (first view, scoring, re-scoring) and the wasm size go to
// artifacts/timings.json and are printed (timings are reported, not asserted; the wasm size
// is asserted). Data from ../shared/data is used when present; tests that need it
// print SKIPPED otherwise. The helpers are in lib.mjs; ux.test.mjs holds the usability suite.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import {
  useApp, app, openApp, tid, skip, text, shot, timeChange, timeSlider, json, cli, timings,
  dist, tiny, devSet, bertPreds, tokenizerJson,
} from './lib.mjs';

useApp();

const card = {
  exact: 'score-exact', f1: 'score-f1', total: 'score-total', HasAns_exact: 'score-hasans-exact',
  HasAns_f1: 'score-hasans-f1', NoAns_exact: 'score-noans-exact', best_f1: 'score-best-f1',
};

async function assertCard(page, expected) {
  for (const [key, id] of Object.entries(card)) {
    if (!(key in expected)) continue;
    const want = key.endsWith('total') ? String(expected[key]) : expected[key].toFixed(2);
    assert.equal(await text(page, id), want, key);
  }
}

// --- the tests -------------------------------------------------------------------------------
test('wasm size (gzip) of the first load is under 1.5 MB; the model worker is a module apart', () => {
  const all = fs.readdirSync(dist).filter((f) => f.endsWith('.wasm'));
  const wasm = all.filter((f) => !f.startsWith('squadkit-worker'));
  const worker = all.filter((f) => f.startsWith('squadkit-worker'));
  assert.equal(wasm.length, 1, `one app .wasm in ${dist}`);
  assert.equal(worker.length, 1, `one model-worker .wasm in ${dist}`);
  const size = (f) => {
    const bytes = fs.readFileSync(path.join(dist, f));
    return [bytes.length, zlib.gzipSync(bytes, { level: 9 }).length];
  };
  const [bytes, gz] = size(wasm[0]);
  timings.wasm_bytes = bytes;
  timings.wasm_gzip_bytes = gz;
  [timings.worker_wasm_bytes, timings.worker_wasm_gzip_bytes] = size(worker[0]);
  console.log(`# wasm ${wasm[0]}: ${bytes} bytes, ${gz} gzipped; model worker ${worker[0]}: ${timings.worker_wasm_bytes} bytes, ${timings.worker_wasm_gzip_bytes} gzipped`);
  assert.ok(gz < 1.5 * 1024 * 1024, `wasm gz ${gz} bytes`);
  const index = fs.readFileSync(path.join(dist, 'index.html'), 'utf8');
  assert.doesNotMatch(index, /(src|href)=["'][^"']*squadkit-worker/, 'index.html loads no model code');
});

test('first load shows the embedded demo dataset, scored like the CLI', async () => {
  const { page, late, errors, close } = await openApp();
  const demo = JSON.parse(fs.readFileSync(path.join(tiny, 'dev.json')));
  const n = demo.data.flatMap((a) => a.paragraphs.flatMap((p) => p.qas)).length;
  assert.equal(await text(page, 'stat-questions'), String(n));
  assert.ok(await page.locator(tid('dataset-row')).count() > 0);
  await page.locator(tid('dataset-row')).first().click();
  await page.waitForSelector(`${tid('example-context')} mark.gold`);
  await shot(page, '01-dataset-demo');
  await page.locator(tid('tab-evaluate')).click();
  await page.waitForSelector(tid('score-exact'));
  const want = cli(['examples/tiny/dev.json', 'examples/tiny/predictions.json', '-n', 'examples/tiny/na_probs.json']);
  if (want) await assertCard(page, want);
  assert.equal(await page.locator(tid('question-row')).count(), n);
  assert.ok(await page.locator(tid('pr-exact')).count() === 1, 'PR curve shown');
  await shot(page, '02-evaluate-demo');
  assert.deepEqual(errors, []);
  assert.deepEqual(late, [], 'no request after load');
  await close();
});

test('threshold slider re-scores live; outcome filter and question detail', async () => {
  const { page, late, close } = await openApp();
  await page.locator(tid('tab-evaluate')).click();
  const before = await text(page, 'score-exact');
  await timeSlider(page, 300, '0.3000');
  const want = cli(['examples/tiny/dev.json', 'examples/tiny/predictions.json', '-n', 'examples/tiny/na_probs.json', '-t', '0.3']);
  if (want) await assertCard(page, want);
  assert.notEqual(await text(page, 'score-exact'), before, 'the score moved with the threshold');
  // Filter by outcome: every row shown has it.
  await page.locator(tid('outcome-filter')).selectOption('false no-answer');
  const rows = page.locator(tid('question-row'));
  assert.ok(await rows.count() > 0);
  for (const o of await rows.locator('td:last-child').allTextContents()) assert.equal(o, 'false no-answer');
  await page.locator(tid('outcome-filter')).selectOption('all');
  await page.locator(tid('sort-key')).selectOption('f1');
  // Detail: predicted and gold spans highlighted in the context.
  const answered = page.locator(`${tid('question-row')}:has(td.outcome.partial), ${tid('question-row')}:has(td.outcome.correct)`).first();
  await answered.click();
  await page.waitForSelector(tid('question-detail'));
  assert.ok(await page.locator(`${tid('detail-context')} mark.gold`).count() > 0);
  assert.ok(await page.locator(`${tid('detail-context')} mark.predicted`).count() > 0);
  await shot(page, '03-evaluate-threshold-detail');
  assert.deepEqual(late, []);
  await close();
});

test('the real dev set and BERT predictions: first view, score card, re-scoring', async (t) => {
  if (skip(t, 'dev set', devSet) || skip(t, 'BERT predictions', bertPreds)) return;
  const { page, late, close } = await openApp();
  timings.dev_first_view_ms = await timeChange(page, 'dataset-file', devSet, () =>
    document.querySelector('[data-testid="stat-questions"]')?.textContent === '11873' && !!document.querySelector('[data-testid="dataset-row"]')
    && (window.__t1 = performance.now()));
  assert.equal(await text(page, 'stat-articles'), '35');
  assert.equal(await text(page, 'stat-answerable'), '5928');
  await page.locator(tid('search')).fill('Normans');
  await page.waitForFunction(() => document.querySelector('[data-testid="match-count"]').textContent !== '11873 questions');
  assert.ok(await page.locator(tid('dataset-row')).count() > 0);
  await shot(page, '04-dataset-dev');
  await page.locator(tid('tab-evaluate')).click();
  timings.dev_scoring_ms = await timeChange(page, 'predictions-file', bertPreds, () =>
    document.querySelector('[data-testid="score-total"]')?.textContent === '11873' && (window.__t1 = performance.now()));
  assert.equal(await text(page, 'score-exact'), '78.74');
  assert.equal(await text(page, 'score-f1'), '81.78');
  assert.equal(await text(page, 'score-hasans-exact'), '74.11');
  assert.equal(await text(page, 'score-hasans-f1'), '80.18');
  assert.equal(await text(page, 'score-noans-exact'), '83.36');
  assert.equal(await page.locator(tid('question-row')).count(), 50, 'paginated');
  const pager = page.locator(tid('question-pager'));
  assert.match(await pager.textContent(), /^◀ prev page 1 of 238 \(11873 items\) next ▶$/);
  const first = await page.locator(tid('question-row')).first().textContent();
  await pager.locator('button', { hasText: 'next' }).click();
  await page.waitForFunction(() => /page 2 of 238/.test(document.querySelector('[data-testid="question-pager"]').textContent));
  assert.notEqual(await page.locator(tid('question-row')).first().textContent(), first);
  assert.equal(await page.locator(tid('question-row')).count(), 50);
  await pager.locator('button', { hasText: 'prev' }).click();
  assert.equal(await pager.locator('button', { hasText: 'prev' }).isDisabled(), true);
  // A na_prob file (made here: 0.9 for "", else a spread by position) → best thresholds, live re-scoring.
  const preds = JSON.parse(fs.readFileSync(bertPreds));
  const na = Object.fromEntries(Object.entries(preds).map(([id, p], i) => [id, p === '' ? 0.9 : ((i * 7919) % 1000) / 1000]));
  timings.dev_scoring_with_na_probs_ms = await timeChange(page, 'na-probs-file', json('na.json', na), () =>
    !!document.querySelector('[data-testid="score-best-f1-thresh"]') && (window.__t1 = performance.now()));
  const ms = [];
  for (const pos of [500, 250, 750, 100]) ms.push(await timeSlider(page, pos, (pos / 1000).toFixed(4)));
  timings.dev_rescore_slider_ms = ms;
  await page.locator(tid('question-row')).first().click();
  await page.waitForSelector(tid('question-detail'));
  await shot(page, '05-evaluate-dev');
  // Targets (issue 6): first view < 1 s, scoring < 300 ms. Reported, not asserted (timings
  // on a shared CI machine are not a test: see BENCHMARKS.md).
  for (const [what, ms, target] of [['first view', timings.dev_first_view_ms, 1000], ['scoring', timings.dev_scoring_ms, 300]]) {
    console.log(`# ${what}: ${ms} ms (target < ${target} ms)${ms < target ? '' : ' OVER TARGET'}`);
  }
  assert.deepEqual(late, []);
  await close();
});

test('compare two prediction files', async () => {
  const { page, late, close } = await openApp();
  const preds = JSON.parse(fs.readFileSync(path.join(tiny, 'predictions.json')));
  const b = { ...preds };
  const ids = Object.keys(b);
  b[ids[0]] = '';
  b[ids[1]] = 'something else entirely';
  await page.locator(tid('tab-compare')).click();
  await page.locator(tid('predictions-b-file')).setInputFiles(json('b.json', b));
  await page.waitForSelector(tid('compare-delta'));
  assert.match(await text(page, 'compare-summary'), /^2 questions answered differently: A better on 2, B better on 0/);
  assert.equal(await page.locator(tid('diff-row')).count(), 2);
  await shot(page, '06-compare');
  assert.deepEqual(late, []);
  await close();
});

test('tokenization windows of a question', async (t) => {
  if (skip(t, 'tokenizer', tokenizerJson)) return;
  const { page, late, close } = await openApp();
  await page.locator(tid('dataset-row')).first().click();
  await page.locator(tid('tab-tokenization')).click();
  await page.locator(tid('tokenizer-file')).setInputFiles(tokenizerJson);
  await page.waitForSelector(tid('token-window'));
  assert.equal(await page.locator(tid('token-window')).count(), 1, 'the demo context fits 384 tokens');
  await page.locator(tid('max-length')).fill('48');
  await page.locator(tid('max-length')).dispatchEvent('change');
  await page.locator(tid('stride')).fill('8');
  await page.locator(tid('stride')).dispatchEvent('change');
  await page.locator(tid('max-query-length')).fill('16');
  await page.locator(tid('max-query-length')).dispatchEvent('change');
  await page.waitForFunction(() => document.querySelectorAll('[data-testid="token-window"]').length > 1);
  assert.ok(await page.locator('.tok.overlap').count() >= 16, 'stride overlap marked on both windows');
  assert.ok(await page.locator('.tok.question').count() > 0);
  assert.ok(await page.locator('.tok.label').count() >= 1, 'the answer is labelled in some window');
  await shot(page, '07-tokenization');
  // A bad size is explained by core's config check.
  await page.locator(tid('stride')).fill('100');
  await page.locator(tid('stride')).dispatchEvent('change');
  await page.waitForSelector(tid('token-error'));
  assert.deepEqual(late, []);
  await close();
});

test('training run metrics log', async () => {
  const { page, late, close } = await openApp();
  const lines = [];
  for (let s = 1; s <= 40; s++) lines.push(JSON.stringify({ step: s * 10, epoch: s / 20, loss: 3 / s, learning_rate: 3e-5 * (1 - s / 40), grad_norm: 5 + Math.sin(s) }));
  lines.push(JSON.stringify({ step: 200, epoch: 1, eval_exact: 70.2, eval_f1: 73.9 }));
  lines.push(JSON.stringify({ step: 400, epoch: 2, eval_exact: 75.1, eval_f1: 78.4 }));
  await page.locator(tid('tab-training')).click();
  await page.locator(tid('metrics-file')).setInputFiles({ name: 'metrics.jsonl', mimeType: 'text/plain', buffer: Buffer.from(lines.join('\n') + '\n') });
  await page.waitForSelector(tid('metric-chart'));
  const alts = await page.locator(tid('metric-chart')).evaluateAll((els) => els.map((e) => e.dataset.alt));
  assert.deepEqual(alts, ['loss', 'eval_exact', 'eval_f1', 'grad_norm', 'learning_rate', 'epoch'], 'loss and evaluation first');
  assert.match(await text(page, 'metrics-summary'), /42 records, 6 series against step/);
  await shot(page, '08-training');
  // The same log dropped on the page is recognised as a metrics log.
  const dt = await page.evaluateHandle((t) => { const d = new DataTransfer(); d.items.add(new File([t], 'dropped.jsonl')); return d; }, lines.slice(0, 5).join('\n'));
  await page.dispatchEvent('.app', 'drop', { dataTransfer: dt });
  await page.waitForFunction(() => /; dropped\.jsonl: 5 records/.test(document.querySelector('[data-testid="metrics-summary"]').textContent));
  assert.deepEqual(late, []);
  await close();
});

test('a flat JSON-lines dataset opens', async () => {
  const { page, late, close } = await openApp();
  const demo = JSON.parse(fs.readFileSync(path.join(tiny, 'dev.json')));
  const lines = demo.data.flatMap((a) => a.paragraphs.flatMap((p) => p.qas.map((q) => JSON.stringify({
    id: q.id, title: a.title, context: p.context, question: q.question,
    answers: { text: q.answers.map((x) => x.text), answer_start: q.answers.map((x) => x.answer_start) } }))));
  await page.locator(tid('dataset-file')).setInputFiles({ name: 'flat.jsonl', mimeType: 'text/plain', buffer: Buffer.from(lines.join('\n') + '\n') });
  await page.waitForFunction(() => /^flat\.jsonl /.test(document.querySelector('[data-testid="loaded-names"]').textContent));
  assert.equal(await text(page, 'stat-questions'), String(lines.length));
  assert.equal(await text(page, 'stat-articles'), String(demo.data.length));
  assert.equal(await text(page, 'error-message'), '');
  assert.deepEqual(late, []);
  await close();
});

test('bad files are explained and leave what was loaded intact', async () => {
  const { page, late, close } = await openApp();
  const questions = await text(page, 'stat-questions');
  const err = () => text(page, 'error-message');
  await page.locator(tid('dataset-file')).setInputFiles(path.join(tiny, 'predictions.json'));
  await page.waitForFunction(() => document.querySelector('[data-testid="error-message"]').textContent !== '');
  assert.match(await err(), /predictions\.json is not a SQuAD dataset: it looks like a predictions file/);
  assert.equal(await text(page, 'stat-questions'), questions);
  await shot(page, '09-error-wrong-kind');
  await page.locator(tid('dataset-file')).setInputFiles(json('broken.json', '{"data": [{"title": '));
  await page.waitForFunction(() => /not valid JSON/.test(document.querySelector('[data-testid="error-message"]').textContent));
  assert.equal(await text(page, 'stat-questions'), questions);
  await page.locator(tid('tab-evaluate')).click();
  const exact = await text(page, 'score-exact');
  const bestThresh = await text(page, 'score-best-f1-thresh');
  await page.locator(tid('na-probs-file')).setInputFiles(json('short-na.json', { 'tiny-01': 0.5 }));
  await page.waitForFunction(() => /have no na_prob/.test(document.querySelector('[data-testid="error-message"]').textContent));
  assert.match(await err(), /^short-na\.json does not fit the predictions: 11 predicted question\(s\) have no na_prob/);
  assert.equal(await text(page, 'score-exact'), exact);
  assert.equal(await text(page, 'score-best-f1-thresh'), bestThresh, 'the previous na_probs are kept');
  await page.locator(tid('predictions-file')).setInputFiles(json('few.json', { 'tiny-01': 'x' }));
  await page.waitForFunction(() => /have no prediction/.test(document.querySelector('[data-testid="error-message"]').textContent));
  assert.equal(await text(page, 'score-exact'), exact);
  await page.locator(tid('tab-training')).click();
  await page.locator(tid('metrics-file')).setInputFiles({ name: 'm.jsonl', mimeType: 'text/plain', buffer: Buffer.from('{"loss": 1}\nnot json\n') });
  await page.waitForFunction(() => /m\.jsonl line 2/.test(document.querySelector('[data-testid="error-message"]').textContent));
  await page.locator(tid('tab-tokenization')).click();
  await page.locator(tid('tokenizer-file')).setInputFiles(json('tok.json', { model: {} }));
  await page.waitForFunction(() => /^tok\.json: /.test(document.querySelector('[data-testid="error-message"]').textContent));
  await shot(page, '10-error-kept-state');
  assert.deepEqual(late, []);
  await close();
});

test('dataset text is rendered as text, never as HTML', async () => {
  const { page, late, errors, close } = await openApp();
  const evil = '<script>window.__pwned = 1</script><img src="x" onerror="window.__pwned = 2"> is here';
  const ds = { version: 'v2.0', data: [{ title: '<b>Title</b>', paragraphs: [{ context: evil, qas: [
    { id: 'x1', question: '<img src=y onerror="window.__pwned=3">?', answers: [{ text: 'is here', answer_start: evil.indexOf('is here') }], is_impossible: false }] }] }] };
  await page.locator(tid('dataset-file')).setInputFiles(json('evil.json', ds));
  await page.waitForFunction(() => document.querySelector('[data-testid="stat-questions"]').textContent === '1');
  await page.locator(tid('dataset-row')).first().click();
  await page.waitForSelector(tid('example-detail'));
  assert.equal(await page.locator(tid('example-context')).textContent(), evil);
  assert.equal(await page.locator('main img:not(.chart), main script, table.list b, .detail b').count(), 0, 'no element made from the text');
  assert.equal(await page.evaluate(() => window.__pwned), undefined);
  await page.locator(tid('tab-evaluate')).click();
  await page.locator(tid('predictions-file')).setInputFiles(json('p.json', { x1: '<script>window.__pwned=4</script>' }));
  await page.locator(tid('question-row')).first().click();
  assert.equal(await text(page, 'detail-prediction'), '<script>window.__pwned=4</script>');
  assert.equal(await page.evaluate(() => window.__pwned), undefined);
  await shot(page, '11-text-not-html');
  assert.deepEqual(errors, []);
  assert.deepEqual(late, [], 'no request (not even for img src=x)');
  await close();
});

test('no network request after load, through every view', async () => {
  const { page, late, close } = await openApp();
  for (const tab of ['tab-evaluate', 'tab-compare', 'tab-tokenization', 'tab-training', 'tab-dataset']) {
    await page.locator(tid(tab)).click();
    await page.waitForTimeout(50);
  }
  await page.locator(tid('dataset-file')).setInputFiles(path.join(tiny, 'dev.json'));
  await page.locator(tid('predictions-file')).setInputFiles(path.join(tiny, 'predictions.json'));
  await page.locator(tid('na-probs-file')).setInputFiles(path.join(tiny, 'na_probs.json'));
  await page.locator(tid('tab-evaluate')).click();
  await page.waitForSelector(tid('score-best-f1-thresh'));
  await page.locator(tid('threshold-slider')).fill('100');
  // Everything the page fetched came from our own server.
  const resources = await page.evaluate(() => performance.getEntriesByType('resource').map((e) => e.name));
  assert.ok(resources.length > 0);
  assert.ok(resources.every((u) => u.startsWith(app.base + '/') || /^(data|blob):/.test(u)), resources.join(' '));
  assert.deepEqual(late, []);
  await close();
});
