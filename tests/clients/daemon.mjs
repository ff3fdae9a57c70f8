// daemon.mjs - starts the real moderatord (from $BUILD, default build) on an ephemeral port with
// a fresh database, keys made by moderatorctl and a Coral signing secret, for the client tests
// and the browser test (tests/browser).
import { spawn, execFileSync } from 'node:child_process';
import dns from 'node:dns';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const BUILD = path.resolve(ROOT, process.env.BUILD || 'build');
const DAEMON = path.join(BUILD, 'moderatord');
const CTL = path.join(BUILD, 'moderatorctl');

// Akismet's clients put the key in the host name (KEY.rest.akismet.com). A site pointing them at
// moderatord gives it a wildcard DNS record (*.moderation.example.com); here every name under
// .localhost resolves to 127.0.0.1 instead, for this process only, so the client's own URL
// building and Host header are exercised unchanged.
export { ROOT, BUILD, DAEMON, CTL };

export function resolveLocalhostSubdomains() {
  if (dns.lookup.__moderatord) return;
  const orig = dns.lookup;
  const patched = function (host, opts, cb) {
    if (typeof opts === 'function') { cb = opts; opts = {}; }
    if (typeof host === 'string' && /\.localhost$/i.test(host)) {
      if (opts && opts.all) return process.nextTick(cb, null, [{ address: '127.0.0.1', family: 4 }]);
      return process.nextTick(cb, null, '127.0.0.1', 4);
    }
    return orig.call(this, host, opts, cb);
  };
  patched.__moderatord = true;
  dns.lookup = patched;
}

// coralSecret null: no Coral phase. keyName: the keys are named cms-NAME and moderator-NAME.
// extra: more flags (e.g. --web DIR).
export async function startDaemon({ coralSecret = 'empsec_test_secret_1', rules = path.join(ROOT, 'rules'), extra = [], keyName = 'clients' } = {}) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'moderatord-clients-'));
  const db = path.join(dir, 'moderatord.db');
  const key = (role, name) =>
    execFileSync(CTL, ['--db', db, 'key', 'add', '--role', role, '--name', name], { encoding: 'utf8' })
      .trim().split('\n').pop();
  const keys = { cms: key('cms', `cms-${keyName}`), moderator: key('moderator', `moderator-${keyName}`) };
  const args = ['--listen', '127.0.0.1:0', '--db', db, '--rules', rules];
  if (coralSecret !== null) {
    const secretFile = path.join(dir, 'coral.secret');
    fs.writeFileSync(secretFile, `# Coral phase signing secret\n${coralSecret}\n`);
    args.push('--coral-secret-file', secretFile);
  }
  const log = fs.openSync(path.join(dir, 'moderatord.log'), 'a');
  const proc = spawn(DAEMON, [...args, ...extra], { stdio: ['ignore', 'pipe', log] });
  const address = await new Promise((resolve, reject) => {
    let buf = '';
    const timer = setTimeout(() => reject(new Error('moderatord did not start in 60 s')), 60000);
    proc.stdout.on('data', d => {
      buf += d;
      const m = /listening on (\S+)/.exec(buf);
      if (m) { clearTimeout(timer); resolve(m[1]); }
    });
    proc.on('exit', code => { clearTimeout(timer); reject(new Error(`moderatord exited ${code}: ${fs.readFileSync(path.join(dir, 'moderatord.log'), 'utf8')}`)); });
  });
  const port = Number(address.split(':').pop());
  return {
    proc, dir, db, keys, port, coralSecret, base: `http://127.0.0.1:${port}`,
    log: () => fs.readFileSync(path.join(dir, 'moderatord.log'), 'utf8'),
    async stop() {
      if (proc.exitCode !== null) return proc.exitCode;
      const done = new Promise(resolve => proc.on('exit', code => resolve(code)));
      proc.kill('SIGTERM');
      const code = await done;
      fs.closeSync(log);
      // Under `make sanitize` any sanitizer report in the log is a failure (one at exit, such as
      // LeakSanitizer's, may leave the exit status alone).
      const text = fs.readFileSync(path.join(dir, 'moderatord.log'), 'utf8');
      for (const marker of ['runtime error:', 'AddressSanitizer', 'LeakSanitizer'])
        if (text.includes(marker)) throw new Error(`sanitizer report in the daemon's log:\n${text.slice(text.indexOf(marker) - 2000)}`);
      fs.rmSync(dir, { recursive: true, force: true }); // kept only when something went wrong
      return code;
    },
    // Reads the database directly (the sqlite3 CLI is installed with the build dependencies).
    sql(query) {
      const out = execFileSync('sqlite3', ['-readonly', '-json', db, query], { encoding: 'utf8' });
      return out.trim() ? JSON.parse(out) : [];
    },
  };
}
