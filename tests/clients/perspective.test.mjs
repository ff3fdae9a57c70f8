// Perspective: requests shaped exactly as Coral's perspective.ts sends them (and as the common
// clients add spanAnnotations), every response checked against the published v1alpha1 schema.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { after, before, test } from 'node:test';

import { check } from './commentanalyzer_schema.mjs';
import { coralIsToxic, sendToPerspective } from './coral.mjs';
import { startDaemon } from './daemon.mjs';

let d, endpoint;
before(async () => {
  d = await startDaemon();
  endpoint = `${d.base}/v1alpha1`; // what an admin types into Coral's "Custom endpoint"
});
after(async () => assert.equal(await d.stop(), 0));

const ATTACK = 'You are a complete idiot and a liar.';
const NEWS = 'The city council approved the new budget on Tuesday after a long debate about school funding.';

function schemaOk(name, body) {
  const problems = check(name, body);
  assert.deepEqual(problems, [], `${name} does not match the published schema:\n${problems.join('\n')}`);
}

async function analyze(body, key = d.keys.cms) {
  const res = await fetch(`${endpoint}/comments:analyze?key=${key}`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body),
  });
  return { res, json: await res.json() };
}

test('Coral-shaped analyze: a clear personal attack scores above 0.8 and is withheld', async () => {
  const r = await sendToPerspective({ endpoint, key: d.keys.cms }, {
    operation: 'comments:analyze', locale: 'en-US',
    body: { text: ATTACK, doNotStore: true, model: 'TOXICITY' },
  });
  assert.equal(r.status, 200, r.text);
  schemaOk('AnalyzeCommentResponse', r.data);
  const { score, isToxic } = coralIsToxic(r.data);
  assert.ok(score > 0.8, `TOXICITY ${score}`);
  assert.equal(isToxic, true);
  assert.equal(r.data.attributeScores.TOXICITY.summaryScore.type, 'PROBABILITY');
  assert.deepEqual(r.data.languages, ['en']);
  assert.equal(r.headers.get('x-moderatord-verdict'), 'hold');
});

test('Coral-shaped analyze: an ordinary news sentence scores below 0.2', async () => {
  const r = await sendToPerspective({ endpoint, key: d.keys.cms }, {
    operation: 'comments:analyze', locale: 'en-US',
    body: { text: NEWS, doNotStore: true, model: 'TOXICITY' },
  });
  assert.equal(r.status, 200, r.text);
  schemaOk('AnalyzeCommentResponse', r.data);
  const { score, isToxic } = coralIsToxic(r.data);
  assert.ok(score < 0.2, `TOXICITY ${score}`);
  assert.equal(isToxic, false);
});

test('spanAnnotations: span offsets slice the matched words out of the text (UTF-16, as JS)', async () => {
  for (const text of [ATTACK, '😀 Café — you are a fucking idiot 😀']) {
    const { res, json } = await analyze({
      comment: { text }, requestedAttributes: { TOXICITY: {}, INSULT: {}, PROFANITY: {} },
      languages: ['en'], spanAnnotations: true, clientToken: 'tok-1',
    });
    assert.equal(res.status, 200, JSON.stringify(json));
    schemaOk('AnalyzeCommentResponse', json);
    assert.equal(json.clientToken, 'tok-1');
    const words = json.attributeScores.TOXICITY.spanScores.map(s => text.slice(s.begin, s.end));
    assert.ok(words.includes('idiot'), JSON.stringify(words));
    for (const w of words) assert.match(w, /^[a-z]+$/i, `span "${w}" is not a whole word`);
    const insult = json.attributeScores.INSULT.spanScores.map(s => text.slice(s.begin, s.end));
    assert.ok(insult.includes('idiot'), JSON.stringify(insult));
    if (text.includes('fucking')) {
      const prof = json.attributeScores.PROFANITY.spanScores.map(s => text.slice(s.begin, s.end));
      assert.deepEqual(prof, ['fucking']);
    }
  }
});

test('all six attributes, each a probability; HTML comments are scored as text, spans on the HTML', async () => {
  const html = '<p>I will <b>kill</b> you, you <i>fucking</i> idiot &amp; liar</p>';
  const { res, json } = await analyze({
    comment: { text: html, type: 'HTML' },
    requestedAttributes: { TOXICITY: {}, SEVERE_TOXICITY: {}, IDENTITY_ATTACK: {}, INSULT: {}, PROFANITY: {}, THREAT: {} },
    spanAnnotations: true,
  });
  assert.equal(res.status, 200, JSON.stringify(json));
  schemaOk('AnalyzeCommentResponse', json);
  const s = Object.fromEntries(Object.entries(json.attributeScores).map(([k, v]) => [k, v.summaryScore.value]));
  assert.deepEqual(Object.keys(s).sort(), ['IDENTITY_ATTACK', 'INSULT', 'PROFANITY', 'SEVERE_TOXICITY', 'THREAT', 'TOXICITY']);
  for (const v of Object.values(s)) assert.ok(v >= 0 && v <= 1);
  assert.ok(s.TOXICITY > 0.8 && s.SEVERE_TOXICITY > s.IDENTITY_ATTACK && s.THREAT > 0.05, JSON.stringify(s));
  const prof = json.attributeScores.PROFANITY.spanScores.map(x => html.slice(x.begin, x.end));
  assert.deepEqual(prof, ['fucking']);
});

test('scoreThreshold leaves out lower scores; dropUnsupportedAttributes drops instead of failing', async () => {
  let { json } = await analyze({ comment: { text: NEWS }, requestedAttributes: { TOXICITY: { scoreThreshold: 0.5 }, INSULT: {} } });
  schemaOk('AnalyzeCommentResponse', json);
  assert.deepEqual(Object.keys(json.attributeScores), ['INSULT']);
  ({ json } = await analyze({ comment: { text: NEWS }, requestedAttributes: { TOXICITY: {} }, languages: ['fr'], dropUnsupportedAttributes: true }));
  schemaOk('AnalyzeCommentResponse', json);
  assert.deepEqual(json.attributeScores, {});
});

test('errors have Google\'s shape: unknown attribute, unsupported language, bad and missing key', async () => {
  let { res, json } = await analyze({ comment: { text: NEWS }, requestedAttributes: { FLIRTATION: {} } });
  assert.equal(res.status, 400);
  schemaOk('ErrorResponse', json);
  assert.equal(json.error.status, 'INVALID_ARGUMENT');
  assert.match(json.error.message, /FLIRTATION/);

  ({ res, json } = await analyze({ comment: { text: NEWS }, requestedAttributes: { TOXICITY: {} }, languages: ['fr'] }));
  assert.equal(res.status, 400);
  schemaOk('ErrorResponse', json);
  assert.equal(json.error.details[0].errorType, 'LANGUAGE_NOT_SUPPORTED_BY_ATTRIBUTE');

  ({ res, json } = await analyze({ comment: { text: NEWS }, requestedAttributes: { TOXICITY: {} } }, 'mk_' + '0'.repeat(64)));
  assert.equal(res.status, 400);
  schemaOk('ErrorResponse', json);
  assert.equal(json.error.details[0].reason, 'API_KEY_INVALID');

  res = await fetch(`${endpoint}/comments:analyze`, { method: 'POST', body: '{}' });
  json = await res.json();
  assert.equal(res.status, 403);
  schemaOk('ErrorResponse', json);
  assert.equal(json.error.status, 'PERMISSION_DENIED');

  // a moderator key is a key of the wrong role
  ({ res, json } = await analyze({ comment: { text: NEWS }, requestedAttributes: { TOXICITY: {} } }, d.keys.moderator));
  assert.equal(res.status, 403);
  schemaOk('ErrorResponse', json);
});

test('doNotStore keeps the verdict and the hash, not the text; without it the text is kept', async () => {
  const secret = 'you are a fucking idiot, my number is 555-0199';
  const r1 = await sendToPerspective({ endpoint, key: d.keys.cms }, {
    operation: 'comments:analyze', locale: 'en-US', body: { text: secret, doNotStore: true, model: 'TOXICITY' },
  });
  assert.equal(r1.status, 200);
  const id = r1.headers.get('x-moderatord-id');
  const [row] = d.sql(`SELECT text, verdict, matches FROM comments WHERE id = '${id}'`);
  assert.equal(row.text, '');
  assert.equal(row.verdict, 'block');
  assert.ok(!row.matches.includes('fucking') && !row.matches.includes('idiot'), row.matches);
  // the matches are kept without their text: the rules and the spans still say what fired where
  const matches = JSON.parse(row.matches);
  assert.deepEqual(matches.map((m) => [m.rule, m.start, m.end]),
    [['profanity.fuck', 10, 17], ['personal_attack.you_cursed_insult', 18, 23]], row.matches);
  const [ev] = d.sql(`SELECT data FROM events WHERE type = 'verdict' AND comment_id = '${id}'`);
  const data = JSON.parse(ev.data);
  assert.equal(data.text_withheld, true);
  assert.equal(data.text_sha256, crypto.createHash('sha256').update(secret).digest('hex'));

  const kept = 'you are a stupid idiot, and everyone knows it';
  const r2 = await sendToPerspective({ endpoint, key: d.keys.cms }, {
    operation: 'comments:analyze', locale: 'en-US', body: { text: kept, doNotStore: false, model: 'TOXICITY' },
  });
  const [row2] = d.sql(`SELECT text FROM comments WHERE id = '${r2.headers.get('x-moderatord-id')}'`);
  assert.equal(row2.text, kept);
});

test('Coral-shaped suggestscore records the moderator\'s decision as an event on the analyzed comment', async () => {
  const text = 'shut up you pathetic clown';
  const a = await sendToPerspective({ endpoint, key: d.keys.cms }, {
    operation: 'comments:analyze', locale: 'en-US', body: { text, doNotStore: true, model: 'TOXICITY' },
  });
  const id = a.headers.get('x-moderatord-id');
  const r = await sendToPerspective({ endpoint, key: d.keys.cms }, {
    operation: 'comments:suggestscore', locale: 'en-US',
    body: { text, commentID: 'c0ffee', commentStatus: 'APPROVED', storyURL: 'https://news.example/story', tenantURL: 'https://news.example/', model: 'TOXICITY' },
  });
  assert.equal(r.status, 200, r.text);
  schemaOk('SuggestCommentScoreResponse', r.data);
  assert.equal(r.data.clientToken, 'comment:c0ffee');
  assert.deepEqual(r.data.requestedLanguages, ['en']);
  const evs = d.sql(`SELECT actor, data FROM events WHERE type = 'feedback' AND comment_id = '${id}'`);
  assert.equal(evs.length, 1);
  const data = JSON.parse(evs[0].data);
  assert.deepEqual(data.attributes, { TOXICITY: 0 });
  assert.equal(data.coral_comment_id, 'c0ffee');
  assert.equal(data.community_id, 'Coral:https://news.example/');
  assert.equal(evs[0].actor, 'cms-clients');
});
