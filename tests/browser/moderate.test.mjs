// moderate.test.mjs - the /moderate review page in headless Chromium (Debian's /usr/bin/chromium,
// driven by playwright-core): sign in with a moderator key, see a held comment with its matched
// span highlighted and labeled, approve it with the keyboard, reject another with the keyboard,
// and check through the API that both are recorded with the key's name and the reason. A comment
// holding <script> must show as text. Starts the real daemon on an ephemeral port with
// tests/clients/daemon.mjs. Run with `node --test` (make test does, from tests/run.sh).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';

import { BUILD, CTL, DAEMON, ROOT, startDaemon } from '../clients/daemon.mjs';

const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const STEP_TIMEOUT_MS = 20000;

let d = null;
let base = null;
let keys = {};
let profile = null;
let context = null;
let page = null;
const dialogs = [];
const pageErrors = [];
const seeded = {};

async function call(method, urlPath, key, body) {
  const headers = { Authorization: `Bearer ${key}` };
  const opts = { method, headers };
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    opts.body = JSON.stringify(body);
  }
  const r = await fetch(base + urlPath, opts);
  return { status: r.status, json: await r.json().catch(() => null) };
}

async function post(text, extId, author) {
  const r = await call('POST', '/v1/comments', keys.cms,
    { text, id: extId, site: 'example.com', thread: 'story-1', author });
  assert.equal(r.status, 200, JSON.stringify(r.json));
  return r.json;
}

before(async () => {
  for (const f of [DAEMON, CTL, CHROMIUM]) {
    assert.ok(fs.existsSync(f), `${f} is missing (make test builds the daemon and installs chromium)`);
  }
  d = await startDaemon({ coralSecret: null, keyName: 'browser', extra: ['--web', path.join(ROOT, 'web')] });
  keys = d.keys;
  base = d.base;

  // Oldest first: the insult is the first item the page selects. The emoji before it makes the
  // code-point offsets differ from UTF-16 ones, so a page that cut by UTF-16 would mark "idiot"
  // one character off.
  seeded.insult = await post('Well 😀 — you are an idiot', 'b-1', { id: 'reader-7', name: 'Pat Reader' });
  seeded.script = await post('<script>alert(1)</script> you are an idiot', 'b-2', { id: 'reader-8', name: 'Mallory' });
  seeded.slur = await post('the polacks ruined it', 'b-3', { id: 'reader-9', name: 'Sam' });
  for (const [name, v] of Object.entries(seeded)) {
    assert.equal(v.state, 'held', `${name} should be held: ${JSON.stringify(v)}`);
    assert.ok(v.matches.length > 0, `${name} should have matches`);
  }

  profile = fs.mkdtempSync(path.join(os.tmpdir(), 'moderate-browser-'));
  context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    viewport: { width: 1366, height: 900 },
  });
  page = context.pages()[0] || await context.newPage();
  page.setDefaultTimeout(STEP_TIMEOUT_MS);
  page.on('dialog', (dlg) => { dialogs.push(dlg.message()); dlg.dismiss().catch(() => {}); });
  page.on('pageerror', (err) => pageErrors.push(String(err)));
});

after(async () => {
  if (context) await context.close().catch(() => {});
  if (profile) fs.rmSync(profile, { recursive: true, force: true });
  // stop() fails on a sanitizer report in the daemon's log
  if (d) assert.equal(await d.stop(), 0, 'daemon exit code on SIGTERM');
});

test('the page is served with a strict Content-Security-Policy and asks for a key', async () => {
  const r = await page.goto(base + '/moderate');
  assert.equal(r.status(), 200);
  const h = r.headers();
  assert.match(h['content-type'], /^text\/html/);
  assert.match(h['content-security-policy'], /script-src 'self'/);
  assert.equal(h['x-content-type-options'], 'nosniff');
  for (const [asset, type] of [['moderate.js', /^text\/javascript/], ['moderate.css', /^text\/css/]]) {
    const a = await fetch(`${base}/moderate/${asset}`);
    assert.equal(a.status, 200);
    assert.match(a.headers.get('content-type'), type);
  }
  assert.equal((await fetch(`${base}/moderate/..%2Frules%2Fpolicy.conf`)).status, 404);
  await page.locator('#key').waitFor({ state: 'visible' });
  assert.equal(await page.locator('label[for="key"]').textContent(), 'Moderator API key');
});

test('a wrong key is refused; a moderator key opens the queue', async () => {
  await page.fill('#key', 'mk_' + '0'.repeat(64));
  await page.press('#key', 'Enter');
  await page.locator('#alert').filter({ hasText: /unknown or revoked/ }).waitFor();
  await page.fill('#key', keys.moderator);
  await page.press('#key', 'Enter');
  await page.locator('#queue li').nth(2).waitFor();
  assert.equal(await page.locator('#queue li').count(), 3);
  assert.equal(await page.evaluate(() => sessionStorage.getItem('moderatord.key') !== null), true);
});

test('the held comment shows its matched span highlighted and labeled by rule and category', async () => {
  const m = seeded.insult.matches.find((x) => x.category === 'personal_attack') || seeded.insult.matches[0];
  const mark = page.locator('#c-text mark').first();
  await mark.waitFor();
  assert.equal(await mark.textContent(), m.text);
  assert.equal(m.text, 'idiot');
  assert.equal(await mark.getAttribute('data-rule'), m.rule);
  assert.equal(await mark.getAttribute('data-category'), m.category);
  const label = await page.locator('#c-text .hl-tag').first().textContent();
  assert.ok(label.includes(m.rule), label);
  assert.ok(label.includes('Personal attack'), label);
  assert.ok((await page.locator('#c-text').textContent()).startsWith('Well 😀 — you are an idiot'));
  // The author panel and the scores are there too.
  await page.locator('#author-body').waitFor({ state: 'visible' });
  assert.match(await page.locator('#a-comments').textContent(), /^1 \(1 held\)$/);
  fs.mkdirSync(BUILD, { recursive: true });
  await page.screenshot({ path: path.join(BUILD, 'moderate.png'), fullPage: true });
});

test('a comment holding <script> is shown as text, never run', async () => {
  await page.keyboard.press('j');
  await page.locator('#c-text').filter({ hasText: '<script>alert(1)</script>' }).waitFor();
  const inText = await page.locator('#c-text script').count();
  assert.equal(inText, 0);
  // The only script on the page is the page's own.
  const scripts = await page.evaluate(() => Array.from(document.scripts).map((s) => s.getAttribute('src')));
  assert.deepEqual(scripts, ['/moderate/moderate.js']);
  const listed = await page.locator('#queue li').nth(1).textContent();
  assert.ok(listed.includes('<script>alert(1)</script>'), listed);
  await page.waitForTimeout(200);
  assert.deepEqual(dialogs, []);
  await page.keyboard.press('k');
  await page.locator('#c-text mark').filter({ hasText: 'idiot' }).waitFor();
});

test('typing a reason does not trigger shortcuts; a approves with the keyboard', async () => {
  const reason = 'banter between regulars, keep it';
  await page.locator('#reason').focus();
  await page.keyboard.type(reason); // holds a, r, j, k: none may act while typing
  const still = await call('GET', `/v1/comments/${seeded.insult.id}`, keys.moderator);
  assert.equal(still.json.state, 'held');
  await page.keyboard.press('Escape'); // back to the list
  await page.keyboard.press('a');
  await page.locator('#status').filter({ hasText: /Approved/ }).waitFor();

  const r = await call('GET', `/v1/comments/${seeded.insult.id}`, keys.moderator);
  assert.equal(r.status, 200);
  assert.equal(r.json.state, 'approved');
  const decision = r.json.history.find((e) => e.type === 'decision');
  assert.ok(decision, JSON.stringify(r.json.history));
  assert.equal(decision.actor, 'moderator-browser');
  assert.equal(decision.data.reason, reason);
  assert.equal(decision.data.before, 'held');
  assert.equal(decision.data.after, 'approved');
  assert.equal(await page.locator('#queue li').count(), 2);
});

test('r asks for a reason, Enter rejects; the author gets a strike', async () => {
  await page.keyboard.press('j'); // the slur (the <script> comment is now first)
  await page.locator('#c-text mark').filter({ hasText: 'polacks' }).waitFor();
  await page.keyboard.press('r');
  assert.equal(await page.evaluate(() => document.activeElement.id), 'reason');
  await page.keyboard.type('ethnic slur');
  await page.keyboard.press('Enter');
  await page.locator('#status').filter({ hasText: /Rejected/ }).waitFor();
  const r = await call('GET', `/v1/comments/${seeded.slur.id}`, keys.moderator);
  assert.equal(r.json.state, 'rejected');
  assert.equal(r.json.author_record.strikes, 1);
  const decision = r.json.history.find((e) => e.type === 'decision');
  assert.equal(decision.actor, 'moderator-browser');
  assert.equal(decision.data.reason, 'ethnic slur');
  assert.equal(await page.locator('#queue li').count(), 1);
  assert.deepEqual(pageErrors, []);
  assert.deepEqual(dialogs, []);
});
