// Akismet: the npm akismet-api client, unchanged, pointed at moderatord with its host and
// protocol options. Like Akismet it puts the key in the host name (KEY.localhost:PORT), so the
// daemon must read the key from the Host header's first label.
import assert from 'node:assert/strict';
import diagnostics from 'node:diagnostics_channel';
import { after, before, test } from 'node:test';

import akismet from 'akismet-api';
import { resolveLocalhostSubdomains, startDaemon } from './daemon.mjs';

const { AkismetClient } = akismet;
const SLURS = 'shut up, nigger. filthy jews and stinking immigrants everywhere';
const POLITE = 'Thank you for the thoughtful article, I learned a lot about the new library.';

// The responses the client got, with their headers (akismet-api returns only true/false).
const seen = [];
diagnostics.subscribe('http.client.response.finish', ({ request, response }) => {
  seen.push({ path: request.path, host: request.getHeader('host'), status: response.statusCode, headers: response.headers });
});
const last = suffix => [...seen].reverse().find(r => r.path.endsWith(suffix));

let d, client;
before(async () => {
  resolveLocalhostSubdomains();
  d = await startDaemon();
  client = new AkismetClient({ key: d.keys.cms, blog: 'https://news.example', host: `localhost:${d.port}`, protocol: 'http' });
});
after(async () => assert.equal(await d.stop(), 0));

const comment = content => ({
  ip: '203.0.113.7', useragent: 'Mozilla/5.0 (X11; Linux x86_64)', content,
  name: 'Reader', email: 'reader@example.org', permalink: 'https://news.example/2026/story', type: 'comment',
});

test('verifyKey: valid for a cms key, invalid for anything else', async () => {
  assert.equal(await client.verifyKey(), true);
  const bad = new AkismetClient({ key: 'mk_' + 'f'.repeat(64), blog: 'https://news.example', host: `localhost:${d.port}`, protocol: 'http' });
  assert.equal(await bad.verifyKey(), false);
});

test('checkSpam is true for a slur-laden comment, with X-akismet-pro-tip: discard', async () => {
  assert.equal(await client.checkSpam(comment(SLURS)), true);
  const r = last('/1.1/comment-check');
  assert.equal(r.host, `${d.keys.cms}.localhost:${d.port}`); // the key travelled in the host name
  assert.equal(r.headers['x-akismet-pro-tip'], 'discard');
  assert.equal(r.headers['x-moderatord-verdict'], 'block');
  assert.match(r.headers['x-moderatord-rules'], /ethnic_slur\./);
  assert.match(r.headers['x-akismet-guid'], /^[0-9a-f]{32}$/);
});

test('checkSpam is false for a polite comment, with no tip', async () => {
  assert.equal(await client.checkSpam(comment(POLITE)), false);
  const r = last('/1.1/comment-check');
  assert.equal(r.headers['x-akismet-pro-tip'], undefined);
  assert.equal(r.headers['x-moderatord-verdict'], 'accept');
});

test('checkSpam is true without the tip for a comment we would hold', async () => {
  assert.equal(await client.checkSpam(comment('you are an idiot')), true);
  const r = last('/1.1/comment-check');
  assert.equal(r.headers['x-akismet-pro-tip'], undefined);
  assert.equal(r.headers['x-moderatord-verdict'], 'hold');
});

test('submitSpam and submitHam record feedback events on the comment comment-check stored', async () => {
  const c = comment('you are an idiot and a liar, go away');
  await client.checkSpam(c);
  const id = last('/1.1/comment-check').headers['x-akismet-guid'];
  await client.submitHam(c);
  await client.submitSpam(c);
  const evs = d.sql(`SELECT data FROM events WHERE type = 'feedback' AND comment_id = '${id}' ORDER BY seq`);
  assert.deepEqual(evs.map(e => JSON.parse(e.data).label), ['ham', 'spam']);
  assert.equal(JSON.parse(evs[0].data).source, 'akismet');
  // the stored comment carries the Akismet fields
  const [row] = d.sql(`SELECT site, ip, author_email, thread, user_agent FROM comments WHERE id = '${id}'`);
  assert.deepEqual(row, { site: 'https://news.example', ip: '203.0.113.7', author_email: 'reader@example.org', thread: 'https://news.example/2026/story', user_agent: 'Mozilla/5.0 (X11; Linux x86_64)' });
});

test('the same comment checked again is not stored twice', async () => {
  const before = d.sql('SELECT count(*) AS n FROM comments')[0].n;
  assert.equal(await client.checkSpam(comment(SLURS)), true);
  assert.equal(last('/1.1/comment-check').headers['x-akismet-pro-tip'], 'discard');
  assert.equal(d.sql('SELECT count(*) AS n FROM comments')[0].n, before);
});

test('an unknown key is refused the way Akismet refuses it', async () => {
  const bad = new AkismetClient({ key: 'mk_' + '0'.repeat(64), blog: 'https://news.example', host: `localhost:${d.port}`, protocol: 'http' });
  await assert.rejects(bad.checkSpam(comment(POLITE)), /Invalid API key/);
  assert.ok(last('/1.1/comment-check').headers['x-akismet-debug-help']);
});
