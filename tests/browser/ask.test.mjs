// The Ask view (issue 15): RoBERTa-QA in the browser's model worker, against `squadkit predict`
// on the same model (the bundled demo model, examples/demo-model) and the same windows.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { useApp, openApp, tid, text, json, shot, skip, devSet, root, squadkit, foreign } from './lib.mjs';

useApp({ recordTimings: false });

const demoModel = path.join(root, 'examples/demo-model');
const modelFile = (f) => path.join(demoModel, f);
// The demo model's windows: 128 tokens, stride 32, questions up to 32 (`squadkit demo`'s).
const WINDOWS = ['--max-seq-length', '128', '--doc-stride', '32', '--max-query-length', '32'];

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'squadkit-ask-'));

/** `squadkit predict` with the demo model on a dataset file: its three answer files. */
function predict(dataFile, name) {
  const out = path.join(tmp, name);
  if (!squadkit(['predict', '--model', demoModel, dataFile, '--output-dir', out, ...WINDOWS])) return null;
  const read = (f) => JSON.parse(fs.readFileSync(path.join(out, f)));
  return { predictions: read('predictions.json'), nbest: read('nbest_predictions.json'), nullOdds: read('null_odds.json') };
}

async function openAsk(page) {
  await page.locator(tid('tab-ask')).click();
  await page.waitForFunction(() => /parameters/.test(document.querySelector('[data-testid="model-info"]')?.textContent ?? ''),
    null, { timeout: 120000 });
}

async function ask(page, context, question) {
  await page.locator(tid('ask-context')).fill(context);
  await page.locator(tid('ask-question')).fill(question);
  await page.locator(tid('ask-submit')).click();
  await page.waitForFunction(() => !document.querySelector('[data-testid="ask-submit"]').disabled
    && document.querySelector('[data-testid="ask-answer"]'), null, { timeout: 60000 });
}

const nullOddsShown = async (page) => Number((await text(page, 'ask-null-score')).match(/null odds (-?[\d.]+)/)[1]);

test('Ask: the demo model answers as squadkit predict does, and loads only with the view', async () => {
  const { page, requests, late, errors, close } = await openApp();
  assert.ok(!requests.some((u) => /squadkit-worker/.test(u)), 'the first load fetches no model code');
  await openAsk(page);
  assert.ok(late.some((u) => /squadkit-worker.*\.wasm$/.test(u)), 'the model module is fetched when Ask opens');
  assert.match(await text(page, 'model-info'), /demo model/);
  const demo = JSON.parse(fs.readFileSync(path.join(root, 'examples/demo/dev.json')));
  const paras = demo.data.flatMap((a) => a.paragraphs);
  const cases = [];
  for (const p of paras.slice(0, 3)) cases.push({ context: p.context, qa: p.qas[0] });
  // One question at a time, each against the CLI on a one-question file.
  for (const [k, c] of cases.entries()) {
    const file = path.join(tmp, `one-${k}.json`);
    fs.writeFileSync(file, JSON.stringify({ version: 'v2.0', data: [{ title: 't', paragraphs: [{ context: c.context, qas: [{ ...c.qa, id: 'ask' }] }] }] }));
    const want = predict(file, `one-${k}`);
    await ask(page, c.context, c.qa.question);
    if (!want) continue;
    const answer = await text(page, 'ask-answer');
    if (want.predictions.ask === '') assert.match(answer, /^No answer/, c.qa.question);
    else assert.equal(answer, want.predictions.ask, c.qa.question);
    const rows = await page.locator(tid('ask-nbest-row')).count();
    assert.equal(rows, want.nbest.ask.length, 'one row per n-best entry');
    const first = (await page.locator(tid('ask-nbest-row')).first().locator('td').nth(1).textContent()).trim();
    assert.equal(first === '(no answer)' ? '' : first, want.nbest.ask[0].text);
    assert.ok(Math.abs((await nullOddsShown(page)) - want.nullOdds.ask) < 1e-3, 'the null odds of squadkit predict');
    if (want.predictions.ask !== '') assert.equal(await text(page, 'ask-span'), want.predictions.ask, 'the answer is marked in the context');
    assert.ok((await page.locator(tid('ask-window')).count()) >= 1);
  }
  // The threshold decides (utils_qa: no answer when null odds > threshold): at -1000 nothing
  // is answered, at 1000 everything is.
  await page.locator('summary', { hasText: 'Windows and answers' }).click();
  await page.locator(tid('ask-threshold')).fill('-1000');
  await page.locator(tid('ask-threshold')).dispatchEvent('change');
  await ask(page, cases[0].context, cases[0].qa.question);
  assert.match(await text(page, 'ask-answer'), /^No answer/);
  assert.match(await text(page, 'ask-null-score'), /> threshold -1000\.0000: no answer$/);
  await page.locator(tid('ask-threshold')).fill('1000');
  await page.locator(tid('ask-threshold')).dispatchEvent('change');
  await ask(page, cases[0].context, cases[0].qa.question);
  assert.doesNotMatch(await text(page, 'ask-answer'), /^No answer/);
  assert.equal(await text(page, 'ask-answer'), await text(page, 'ask-span'), 'the best span is answered and marked');
  assert.match(await text(page, 'ask-null-score'), /≤ threshold 1000\.0000: answered$/);
  await shot(page, 'ask');
  assert.deepEqual(foreign(late), [], 'after the load, only the model worker\'s own files are fetched');
  assert.deepEqual(errors, []);
  await close();
});

/** The first `n` questions of a SQuAD file, as a SQuAD file. */
function firstQuestions(file, n) {
  const d = JSON.parse(fs.readFileSync(file));
  let left = n;
  const data = [];
  for (const a of d.data) {
    if (left <= 0) break;
    const paragraphs = [];
    for (const p of a.paragraphs) {
      if (left <= 0) break;
      const qas = p.qas.slice(0, left);
      left -= qas.length;
      paragraphs.push({ ...p, qas });
    }
    data.push({ ...a, paragraphs });
  }
  return { version: d.version, data };
}

test('Ask: 50 dev questions predicted in the browser equal squadkit predict\'s, and open in Evaluate', async (t) => {
  if (skip(t, 'the dev set', devSet)) return;
  const subset = path.join(tmp, 'dev-50.json');
  fs.writeFileSync(subset, JSON.stringify(firstQuestions(devSet, 50)));
  const want = predict(subset, 'dev-50');
  const { page, close } = await openApp();
  await page.locator(tid('dataset-file')).setInputFiles(subset);
  await page.waitForFunction(() => /50 questions/.test(document.querySelector('[data-testid="loaded-names"]').textContent));
  await openAsk(page);
  await page.locator(tid('predict-start')).click();
  await page.waitForSelector(tid('predict-progress'));
  await page.waitForSelector(tid('predict-done'), { timeout: 300000 });
  assert.match(await text(page, 'predict-done'), /^50 questions \(\d+ windows\) of dev-50\.json/);
  assert.match(await text(page, 'loaded-names'), /predictions\.json \+ null_odds\.json/);
  const [download] = await Promise.all([page.waitForEvent('download'), page.locator(tid('predict-download-predictions')).click()]);
  const got = JSON.parse(fs.readFileSync(await download.path()));
  const [dl2] = await Promise.all([page.waitForEvent('download'), page.locator(tid('predict-download-null-odds')).click()]);
  const odds = JSON.parse(fs.readFileSync(await dl2.path()));
  assert.equal(Object.keys(got).length, 50);
  if (want) {
    assert.deepEqual(got, want.predictions, 'every answer equals squadkit predict\'s');
    for (const [id, v] of Object.entries(want.nullOdds)) assert.ok(Math.abs(odds[id] - v) < 1e-3, `${id}: null odds ${odds[id]} vs ${v}`);
  }
  await page.locator(tid('tab-evaluate')).click();
  await page.waitForSelector(tid('score-exact'));
  await close();
});

test('Ask: a prediction can be cancelled, the app stays usable and keeps its state', async () => {
  const { page, close } = await openApp();
  // The demo dataset repeated: enough windows to cancel in the middle.
  const demo = JSON.parse(fs.readFileSync(path.join(root, 'examples/demo/dev.json')));
  const many = { version: 'v2.0', data: [] };
  for (let r = 0; r < 20; r++) {
    for (const a of demo.data) {
      many.data.push({ ...a, paragraphs: a.paragraphs.map((p) => ({ ...p, qas: p.qas.map((q) => ({ ...q, id: `${q.id}-${r}` })) })) });
    }
  }
  await page.locator(tid('dataset-file')).setInputFiles(json('many.json', many));
  await page.waitForFunction(() => /many\.json/.test(document.querySelector('[data-testid="loaded-names"]').textContent));
  const before = await text(page, 'loaded-names');
  await openAsk(page);
  await page.locator(tid('predict-start')).click();
  await page.waitForFunction(() => /^[1-9][\d,]* of/.test(document.querySelector('[data-testid="predict-progress-text"]')?.textContent ?? ''), null, { timeout: 60000 });
  // The page answers while the worker computes.
  await page.locator(tid('tab-dataset')).click();
  await page.waitForSelector(tid('dataset-row'));
  await page.locator(tid('tab-ask')).click();
  await page.locator(tid('predict-cancel')).click();
  await page.waitForFunction(() => /cancelled/.test(document.querySelector('[data-testid="notice-message"]').textContent));
  assert.equal(await page.locator(tid('predict-progress')).count(), 0);
  assert.equal(await page.locator(tid('predict-done')).count(), 0);
  assert.equal(await text(page, 'loaded-names'), before, 'nothing was opened');
  // The worker is back with its model.
  await openAsk(page);
  await ask(page, demo.data[0].paragraphs[0].context, demo.data[0].paragraphs[0].qas[0].question);
  assert.ok((await text(page, 'ask-answer')).length > 0);
  await close();
});

test('Ask: a bad model directory gives one message and the model stays', async () => {
  const { page, close } = await openApp();
  await openAsk(page);
  const info = await text(page, 'model-info');
  const config = JSON.parse(fs.readFileSync(modelFile('config.json')));
  const weights = fs.readFileSync(modelFile('model.safetensors'));
  const tokenizer = fs.readFileSync(modelFile('tokenizer.json'));
  const file = (name, buffer) => ({ name, mimeType: 'application/octet-stream', buffer: Buffer.from(buffer) });
  const cases = [
    [[json('config.json', config), file('model.safetensors', weights)], /^tokenizer\.json is missing from the model files/],
    [[json('config.json', config), file('tokenizer.json', tokenizer)], /^model\.safetensors is missing from the model files/],
    [[json('config.json', config), file('model.safetensors', weights.subarray(0, weights.length >> 1)), file('tokenizer.json', tokenizer)],
      /^model\.safetensors: not a valid safetensors file/],
    [[json('config.json', { ...config, intermediate_size: 200 }), file('model.safetensors', weights), file('tokenizer.json', tokenizer)],
      /^model\.safetensors: .*intermediate_size/],
    [[json('config.json', { ...config, hidden_act: 'relu' }), file('model.safetensors', weights), file('tokenizer.json', tokenizer)],
      /^config\.json: .*hidden_act/],
  ];
  for (const [files, message] of cases) {
    await page.locator(tid('model-files')).setInputFiles(files);
    await page.waitForFunction(() => document.querySelector('[data-testid="error-message"]').textContent.length > 0
      && /parameters/.test(document.querySelector('[data-testid="model-info"]').textContent), null, { timeout: 60000 });
    assert.match(await text(page, 'error-message'), message);
    assert.equal(await text(page, 'model-info'), info, 'the loaded model stays');
    await page.locator('.error .dismiss').click();
  }
  // The good files load (the same model, under its files' names), and answer.
  await page.locator(tid('model-files')).setInputFiles([modelFile('config.json'), modelFile('model.safetensors'), modelFile('tokenizer.json')]);
  await page.waitForFunction(() => /config\.json \+ model\.safetensors \+ tokenizer\.json: /.test(document.querySelector('[data-testid="model-info"]').textContent), null, { timeout: 60000 });
  await ask(page, 'The tower was built by Anna Berg in 1901.', 'Who built the tower?');
  assert.equal(await text(page, 'error-message'), '');
  await close();
});
