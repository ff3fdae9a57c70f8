// /metrics read by a Prometheus text-format parser after real traffic.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';

import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { ROOT, startDaemon } from './daemon.mjs';

let d, rules;
before(async () => {
  rules = fs.mkdtempSync(path.join(fs.mkdtempSync('/tmp/moderatord-metrics-'), 'rules-'));
  for (const f of fs.readdirSync(path.join(ROOT, 'rules')))
    fs.copyFileSync(path.join(ROOT, 'rules', f), path.join(rules, f));
  d = await startDaemon({ rules });
});
after(async () => {
  assert.equal(await d.stop(), 0);
  fs.rmSync(path.dirname(rules), { recursive: true, force: true });
});

async function scrape() {
  const res = await fetch(`${d.base}/metrics`);
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type'), /^text\/plain; version=0\.0\.4/);
  const text = await res.text();
  const families = parsePrometheusTextFormat(text);
  return Object.assign(Object.fromEntries(families.map(f => [f.name, f])), { text });
}

const post = (text, key) => fetch(`${d.base}/v1/comments`, {
  method: 'POST', headers: { Authorization: `Bearer ${key}`, 'Content-Type': 'application/json' }, body: JSON.stringify({ text }),
});

test('requests, verdicts, latency, writer batches, queue depth and the rule set are exported', async () => {
  assert.equal((await post('you are a fucking idiot', d.keys.cms)).status, 200);
  assert.equal((await post('you are an idiot', d.keys.cms)).status, 200);
  assert.equal((await post('lovely weather today', d.keys.cms)).status, 200);
  assert.equal((await post('x', 'mk_nope')).status, 401);
  await fetch(`${d.base}/no/such/route`);
  const m = await scrape();

  const req = m.moderatord_http_requests_total;
  assert.equal(req.type, 'COUNTER');
  const ok = req.metrics.find(x => x.labels.route === '/v1/comments' && x.labels.status === '200');
  assert.equal(ok.value, '3');
  assert.ok(req.metrics.find(x => x.labels.route === '/v1/comments' && x.labels.status === '401'));
  assert.ok(req.metrics.find(x => x.labels.route === 'unmatched' && x.labels.status === '404'));

  // The parser folds a labelled histogram into one bucket map (it only knows unlabelled ones), so
  // it checks the family and its buckets; the per-route series are read from the text.
  const lat = m.moderatord_http_request_duration_seconds;
  assert.equal(lat.type, 'HISTOGRAM');
  assert.ok(lat.metrics[0].buckets['+Inf']);
  assert.match(m.text, /^moderatord_http_request_duration_seconds_count\{route="\/v1\/comments",method="POST"\} 4$/m);
  assert.match(m.text, /^moderatord_http_request_duration_seconds_bucket\{route="\/v1\/comments",method="POST",le="\+Inf"\} 4$/m);

  const v = Object.fromEntries(m.moderatord_verdicts_total.metrics.map(x => [x.labels.verdict, Number(x.value)]));
  assert.deepEqual(v, { accept: 1, hold: 1, block: 1 });
  const cats = m.moderatord_verdict_categories_total.metrics;
  assert.equal(cats.find(x => x.labels.verdict === 'block' && x.labels.category === 'profanity').value, '1');

  const batches = m.moderatord_writer_batch_size;
  assert.equal(batches.type, 'HISTOGRAM');
  assert.ok(Number(batches.metrics[0].count) >= 1);
  assert.ok(Number(batches.metrics[0].sum) >= 3); // three verdicts committed
  assert.equal(m.moderatord_writer_commit_seconds.type, 'HISTOGRAM');

  assert.equal(m.moderatord_queue_depth.type, 'GAUGE');
  assert.equal(m.moderatord_queue_depth.metrics[0].value, '1'); // "you are an idiot" is held

  const health = await (await fetch(`${d.base}/healthz`)).json();
  assert.equal(m.moderatord_ruleset_info.metrics[0].labels.version, health.ruleset);
});

test('a reload that fails is counted and the old rule set stays live', async () => {
  const beforeVersion = (await scrape()).moderatord_ruleset_info.metrics[0].labels.version;
  fs.appendFileSync(path.join(rules, 'profanity.rules'), '\nbroken_rule   not-a-weight   @nosuchset\n');
  d.proc.kill('SIGHUP');
  let failed = '0';
  for (let i = 0; i < 100 && failed === '0'; i++) {
    await new Promise(r => setTimeout(r, 100));
    const m = await scrape();
    failed = m.moderatord_rules_reloads_total.metrics.find(x => x.labels.result === 'failed').value;
  }
  assert.equal(failed, '1');
  const m = await scrape();
  assert.equal(m.moderatord_ruleset_info.metrics[0].labels.version, beforeVersion);
});
