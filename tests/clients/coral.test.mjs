// Coral's external moderation phase: requests built and signed as Coral's external.ts builds them
// (JSON.stringify(request, null, 2), X-Coral-Signature: sha256=HMAC per active secret), and the
// replies read through Coral's own validation.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { moderationRequest, processPhase } from './coral.mjs';
import { startDaemon } from './daemon.mjs';

let d, url;
before(async () => {
  d = await startDaemon({ coralSecret: 'empsec_4d3b6c0f6e2a4b1d9b7a' });
  url = `${d.base}/v1/integrations/coral/phase`;
});
after(async () => assert.equal(await d.stop(), 0));

const count = () => d.sql('SELECT count(*) AS n FROM comments')[0].n;

test('a slur, signed with the right secret, is REJECTED with a toxic flag', async () => {
  const n = count();
  const { res, response, raw } = await processPhase(url, [d.coralSecret], moderationRequest('go home wetback, nobody wants you here'));
  assert.equal(res.status, 200);
  assert.deepEqual(response, { actions: [{ actionType: 'FLAG', reason: 'COMMENT_DETECTED_TOXIC' }], status: 'REJECTED' });
  assert.equal(raw.moderatord.verdict, 'block');
  assert.equal(count(), n + 1);
  const [row] = d.sql(`SELECT verdict, site, thread, author_id FROM comments WHERE id = '${raw.moderatord.id}'`);
  assert.deepEqual(row, { verdict: 'block', site: 'localhost', thread: '245b3856-b0a0-4d2f-a6bb-58c71f18d6a6', author_id: 'baf4e943-3594-4fcc-b2ba-3e8de7a76352' });
});

test('a wrong signature gets 401 and changes nothing', async () => {
  const n = count();
  const { res } = await processPhase(url, ['empsec_not_the_secret'], moderationRequest('go home wetback'));
  assert.equal(res.status, 401);
  const body = await res.json();
  assert.equal(body.error, 'unauthorized');
  // no signature at all, and a signature of another body
  let r = await fetch(url, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(moderationRequest('x')) });
  assert.equal(r.status, 401);
  const signed = (await import('./coral.mjs')).generateFetchOptions([d.coralSecret], moderationRequest('hello'));
  r = await fetch(url, { ...signed, body: signed.body.replace('hello', 'hello!') });
  assert.equal(r.status, 401);
  assert.equal(count(), n);
});

test('a comment we would hold is SYSTEM_WITHHELD; a clean one gets 204 and goes on', async () => {
  let { res, response } = await processPhase(url, [d.coralSecret], moderationRequest('you are an idiot', { parentID: 'p-1' }));
  assert.equal(res.status, 200);
  assert.equal(response.status, 'SYSTEM_WITHHELD');
  ({ res, response } = await processPhase(url, [d.coralSecret], moderationRequest('<p>Great reporting, thank you.</p>')));
  assert.equal(res.status, 204);
  assert.equal(response, undefined);
});

test('during a secret rotation Coral signs with both: either matching is enough', async () => {
  const { res, response } = await processPhase(url, ['empsec_old_rotated_out', d.coralSecret], moderationRequest('what a faggot'));
  assert.equal(res.status, 200);
  assert.equal(response.status, 'REJECTED');
});
