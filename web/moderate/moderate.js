// moderate.js - the review page: asks for a moderator key once per browser session, lists the
// queue, shows a comment with its matched spans highlighted, records decisions and sanctions.
// Everything a commenter wrote is put on the page as text (textContent / text nodes), never as
// HTML. Match offsets are Unicode code points; JavaScript strings are UTF-16, so the text is
// split into code points (Array.from) before it is cut.
'use strict';

(() => {
  const KEY_STORE = 'moderatord.key';
  const CATEGORIES = ['profanity', 'personal_attack', 'ethnic_slur'];
  const CATEGORY_LABEL = {
    profanity: 'Profanity', personal_attack: 'Personal attack', ethnic_slur: 'Ethnic slur',
  };
  const PAGE = 50;

  const $ = (id) => document.getElementById(id);
  const state = {
    key: null,
    items: [],
    index: -1,
    next: null,
    total: 0,
    filters: { status: 'held', site: '', category: '' },
    thresholds: null,
    strikePolicy: null,
    busy: false,
    pendingReject: false,
    detailSeq: 0,
  };

  class ApiError extends Error {
    constructor(status, code, message, data) {
      super(message);
      this.status = status;
      this.code = code;
      this.data = data;
    }
  }

  // ---- small DOM helpers (text only) ----

  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }

  function setText(id, text) {
    $(id).textContent = text === undefined || text === null ? '' : String(text);
  }

  function announce(msg) {
    $('alert').textContent = '';
    // Re-set even when unchanged, so screen readers repeat it.
    $('status').textContent = '';
    window.setTimeout(() => { $('status').textContent = msg; }, 30);
  }

  function complain(msg) {
    $('status').textContent = '';
    $('alert').textContent = msg;
  }

  function categoryClass(cat) {
    return CATEGORIES.includes(cat) ? 'cat-' + cat : 'cat-other';
  }

  function fmtTime(iso) {
    if (!iso) return '';
    const d = new Date(iso);
    if (Number.isNaN(d.getTime())) return iso;
    return d.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
  }

  function fmtDuration(seconds) {
    if (!seconds) return 'no window';
    const units = [['week', 604800], ['day', 86400], ['hour', 3600], ['minute', 60], ['second', 1]];
    for (const [name, s] of units) {
      if (seconds % s === 0) {
        const n = seconds / s;
        return `${n} ${name}${n === 1 ? '' : 's'}`;
      }
    }
    return `${seconds} seconds`;
  }

  function fmtNum(x) {
    return typeof x === 'number' ? String(Math.round(x * 100) / 100) : '–';
  }

  // ---- the API ----

  async function api(method, path, body) {
    const headers = { Authorization: 'Bearer ' + state.key, Accept: 'application/json' };
    const opts = { method, headers, cache: 'no-store', credentials: 'omit' };
    if (body !== undefined) {
      headers['Content-Type'] = 'application/json';
      opts.body = JSON.stringify(body);
    }
    let r;
    try {
      r = await fetch(path, opts);
    } catch (e) {
      throw new ApiError(0, 'network', 'The daemon cannot be reached: ' + e.message, null);
    }
    let data = null;
    try { data = await r.json(); } catch (e) { data = null; }
    if (!r.ok) {
      const msg = (data && data.message) || `${r.status} ${r.statusText}`;
      throw new ApiError(r.status, data && data.error, msg, data);
    }
    return data;
  }

  // A 401 on any call means the key is gone (revoked): ask again.
  function handleError(e) {
    if (e.status === 401) {
      signOut('The key is no longer accepted (unknown or revoked). Enter a moderator key.');
    } else if (e.status === 403) {
      signOut('That key is not a moderator key. Enter a moderator (or admin) key.');
    } else {
      complain(e.message);
    }
  }

  // ---- signing in ----

  function showLogin(msg) {
    $('app').hidden = true;
    $('login').hidden = false;
    $('signout').hidden = true;
    setText('whoami', '');
    setText('counts', '');
    if (msg) complain(msg);
    $('key').value = '';
    $('key').focus();
  }

  function signOut(msg) {
    state.key = null;
    try { sessionStorage.removeItem(KEY_STORE); } catch (e) { /* storage disabled */ }
    showLogin(msg);
  }

  async function signIn(key) {
    state.key = key;
    try {
      await api('GET', '/v1/queue?limit=1');
    } catch (e) {
      state.key = null;
      if (e.status === 401) complain('That key is unknown or revoked.');
      else if (e.status === 403) complain('That key is not a moderator key.');
      else complain(e.message);
      $('key').focus();
      return false;
    }
    try { sessionStorage.setItem(KEY_STORE, key); } catch (e) { /* this tab only, then */ }
    $('login').hidden = true;
    $('app').hidden = false;
    $('signout').hidden = false;
    setText('whoami', 'key …' + key.slice(-4));
    $('alert').textContent = '';
    await loadQueue(true, true);
    return true;
  }

  // ---- the queue ----

  function current() {
    return state.index >= 0 ? state.items[state.index] : null;
  }

  function queueParams(after) {
    const q = new URLSearchParams();
    q.set('status', state.filters.status);
    q.set('limit', String(PAGE));
    if (state.filters.site) q.set('site', state.filters.site);
    if (state.filters.category) q.set('category', state.filters.category);
    if (after) q.set('after', String(after));
    return q;
  }

  async function loadQueue(reset, focusList) {
    const keepId = reset && current() ? current().id : null;
    let data;
    try {
      data = await api('GET', '/v1/queue?' + queueParams(reset ? null : state.next));
    } catch (e) {
      handleError(e);
      return;
    }
    state.items = reset ? data.items : state.items.concat(data.items);
    state.next = data.next;
    state.total = data.total;
    state.thresholds = data.thresholds;
    state.strikePolicy = data.strike_policy;
    renderQueue();
    if (reset) {
      let i = keepId ? state.items.findIndex((it) => it.id === keepId) : -1;
      if (i < 0) i = state.items.length ? 0 : -1;
      select(i, focusList);
    }
    updateCounts();
  }

  function updateCounts() {
    const s = state.filters.status;
    const left = state.total;
    const where = [state.filters.site && `on ${state.filters.site}`,
      state.filters.category && `with ${CATEGORY_LABEL[state.filters.category]}`]
      .filter(Boolean).join(' ');
    setText('counts', `${left} ${s}${where ? ' ' + where : ''}`);
    setText('queue-title', `${s[0].toUpperCase()}${s.slice(1)} comments (${left})`);
  }

  function queueEntry(it, i) {
    const li = el('li');
    const b = el('button');
    b.type = 'button';
    b.dataset.index = String(i);
    b.id = 'q-' + it.id;
    const excerpt = Array.from(it.text || '').slice(0, 160).join('');
    b.append(el('span', 'q-text', excerpt || '(empty)'));
    const meta = el('span', 'q-meta');
    const who = (it.author && (it.author.name || it.author.id || it.author.email)) || 'anonymous';
    meta.append(el('span', null, who));
    meta.append(el('span', null, 'score ' + fmtNum(it.score)));
    if (it.reports && it.reports.count) meta.append(el('span', null, `${it.reports.count} reports`));
    if (it.reason) meta.append(el('span', null, it.reason.replace('_', ' ')));
    meta.append(el('span', null, fmtTime(it.created_at)));
    b.append(meta);
    b.setAttribute('aria-current', i === state.index ? 'true' : 'false');
    b.addEventListener('click', () => select(i, true));
    li.append(b);
    return li;
  }

  function renderQueue() {
    $('queue').replaceChildren(...state.items.map(queueEntry));
    $('queue-empty').hidden = state.items.length > 0;
    $('more').hidden = !state.next;
  }

  function select(i, focus) {
    if (i >= state.items.length) i = state.items.length - 1;
    state.index = i;
    state.pendingReject = false;
    const buttons = $('queue').querySelectorAll('button');
    buttons.forEach((b, j) => b.setAttribute('aria-current', j === i ? 'true' : 'false'));
    if (i < 0) {
      $('detail-body').hidden = true;
      $('detail-none').hidden = false;
      renderAuthor(null, null);
      return;
    }
    const b = buttons[i];
    if (b) {
      b.scrollIntoView({ block: 'nearest' });
      if (focus) b.focus();
    }
    $('reason').value = '';
    renderDetail(state.items[i]);
    loadDetail(state.items[i]);
  }

  function move(delta) {
    if (!state.items.length) return;
    let i = state.index + delta;
    if (i < 0) i = 0;
    if (i >= state.items.length) {
      i = state.items.length - 1;
      if (state.next) announce('Loading more…');
      if (state.next) loadQueue(false, false).then(() => select(Math.min(state.index + 1, state.items.length - 1), true));
    }
    select(i, true);
  }

  // ---- one comment ----

  // Cuts text at the matches' code-point offsets: plain runs become text nodes, matched runs
  // <mark> elements carrying the rule and category, each span followed by a small label.
  function renderText(container, text, matches) {
    const cps = Array.from(text || '');
    const n = cps.length;
    const spans = (matches || []).filter((m) => Number.isInteger(m.start) &&
      Number.isInteger(m.end) && m.start >= 0 && m.end <= n && m.start < m.end);
    const cuts = new Set([0, n]);
    spans.forEach((m) => { cuts.add(m.start); cuts.add(m.end); });
    const points = Array.from(cuts).sort((a, b) => a - b);
    const frag = document.createDocumentFragment();
    for (let i = 0; i + 1 < points.length; i++) {
      const a = points[i];
      const b = points[i + 1];
      const piece = cps.slice(a, b).join('');
      const covering = spans.filter((m) => m.start <= a && m.end >= b);
      if (!covering.length) {
        frag.append(document.createTextNode(piece));
        continue;
      }
      const mark = el('mark', 'hl ' + categoryClass(covering[0].category), piece);
      mark.dataset.rule = Array.from(new Set(covering.map((m) => m.rule))).join(' ');
      mark.dataset.category = Array.from(new Set(covering.map((m) => m.category))).join(' ');
      mark.title = covering.map((m) => `${m.rule} (${m.category}, weight ${fmtNum(m.weight)})`).join('\n');
      frag.append(mark);
      const ending = covering.filter((m) => m.end === b);
      if (ending.length) {
        const tag = el('span', 'hl-tag ' + categoryClass(ending[0].category));
        tag.textContent = ending.map((m) => `${m.rule} · ${CATEGORY_LABEL[m.category] || m.category}`).join(', ');
        frag.append(tag);
      }
    }
    container.replaceChildren(frag);
  }

  function renderScores(it) {
    const rows = [];
    const t = state.thresholds || {};
    for (const cat of CATEGORIES) {
      const score = (it.categories || {})[cat] || 0;
      const th = t[cat] || {};
      const tr = el('tr');
      const name = el('th', null, CATEGORY_LABEL[cat]);
      name.scope = 'row';
      tr.append(name);
      const sc = el('td', 'num', fmtNum(score));
      if (th.block && score >= th.block) sc.classList.add('over-block');
      else if (th.hold && score >= th.hold) sc.classList.add('over-hold');
      tr.append(sc, el('td', 'num', fmtNum(th.hold)), el('td', 'num', fmtNum(th.block)));
      const gauge = el('td');
      const m = document.createElement('meter');
      m.min = 0;
      m.max = Math.max(th.block || 1, score);
      m.low = th.hold ? th.hold - 0.001 : 0; // reaching the hold score is already a warning
      m.high = th.block || m.max;
      m.optimum = 0;
      m.value = score;
      m.textContent = fmtNum(score);
      m.setAttribute('aria-label', `${CATEGORY_LABEL[cat]} score`);
      gauge.append(m);
      tr.append(gauge);
      rows.push(tr);
    }
    const total = el('tr');
    const tn = el('th', null, 'Total');
    tn.scope = 'row';
    const tt = t.total || {};
    total.append(tn, el('td', 'num', fmtNum(it.score)), el('td', 'num', fmtNum(tt.hold)),
      el('td', 'num', fmtNum(tt.block)), el('td'));
    rows.push(total);
    $('c-scores').replaceChildren(...rows);
  }

  function renderMatches(it) {
    const rows = (it.matches || []).map((m) => {
      const tr = el('tr');
      const words = el('td');
      words.append(el('mark', 'hl ' + categoryClass(m.category), m.text));
      if (m.matched && m.matched !== m.text) words.append(el('span', 'hint', ` read as “${m.matched}”`));
      if (m.context && m.context.text) words.append(el('span', 'hint', ` aimed by “${m.context.text}”`));
      const rule = el('td', null, m.rule);
      if (m.file) rule.title = `${m.file}:${m.line}`;
      tr.append(words, rule, el('td', null, CATEGORY_LABEL[m.category] || m.category),
        el('td', 'num', fmtNum(m.weight)));
      return tr;
    });
    $('c-matches').replaceChildren(...rows);
    $('c-nomatch').hidden = rows.length > 0;
  }

  function renderReports(it) {
    const r = it.reports || { count: 0, recent: [] };
    $('reports-box').hidden = !r.count;
    const items = (r.recent || []).map((x) => {
      const who = x.reporter ? `reader ${x.reporter}` : 'a reader';
      return el('li', null, `${fmtTime(x.at)} — ${who}${x.reason ? ': ' + x.reason : ''}`);
    });
    if (r.count > items.length) items.push(el('li', 'hint', `${r.count} reports in all`));
    $('c-reports').replaceChildren(...items);
  }

  function historyLine(ev) {
    const d = ev.data || {};
    const who = ev.actor || 'unknown';
    switch (ev.type) {
      case 'verdict':
        return `verdict ${d.verdict} (score ${fmtNum(d.score)})${d.reason ? ', ' + d.reason : ''}`;
      case 'decision':
        return `${who}: ${d.decision} (${d.before} → ${d.after})${d.reason ? ' — “' + d.reason + '”' : ''}`;
      case 'report':
        return `report by ${d.reporter ? 'reader ' + d.reporter : who}${d.reason ? ' — “' + d.reason + '”' : ''} (${d.reports} in all)`;
      case 'sanction':
        if (d.source === 'strikes') return `author put on ${d.action} after ${d.strikes} strikes`;
        return `${who}: ${d.action} ${d.author}${d.reason ? ' — “' + d.reason + '”' : ''}`;
      default:
        return `${ev.type} by ${who}`;
    }
  }

  function renderHistory(events) {
    const items = (events || []).map((ev) => {
      const li = el('li');
      li.append(el('time', 'hint', fmtTime(ev.at)), document.createTextNode(' ' + historyLine(ev)));
      li.firstChild.dateTime = ev.at || '';
      return li;
    });
    $('c-history').replaceChildren(...items);
  }

  function renderDetail(it) {
    $('detail-none').hidden = true;
    $('detail-body').hidden = false;
    const bits = [it.site || 'no site'];
    if (it.thread) bits.push('thread ' + it.thread);
    if (it.external_id) bits.push('id ' + it.external_id);
    bits.push(fmtTime(it.created_at), `verdict ${it.verdict}`, `now ${it.state}`);
    setText('c-meta', bits.join(' · '));
    renderText($('c-text'), it.text, it.matches);
    setText('c-reason', it.reason ? `Decided by the author's record: ${it.reason.replace('_', ' ')}` : '');
    renderScores(it);
    renderMatches(it);
    renderReports(it);
    renderHistory(it.history);
    const allowed = it.allowed_decisions || [];
    $('approve').disabled = !allowed.includes('approve');
    $('reject').disabled = !allowed.includes('reject');
    renderAuthor(it.author_record, it.author);
  }

  // The full record (history, fresh author record) arrives after the queue entry is shown.
  async function loadDetail(it) {
    const seq = ++state.detailSeq;
    let full;
    try {
      full = await api('GET', '/v1/comments/' + encodeURIComponent(it.id));
    } catch (e) {
      if (e.status === 401 || e.status === 403) handleError(e);
      return;
    }
    if (seq !== state.detailSeq || current() !== it) return;
    it.history = full.history;
    it.author_record = full.author_record;
    renderHistory(it.history);
    renderAuthor(it.author_record, it.author);
  }

  // ---- decisions ----

  function removeCurrent() {
    const i = state.index;
    state.items.splice(i, 1);
    state.total = Math.max(0, state.total - 1);
    renderQueue();
    updateCounts();
    select(Math.min(i, state.items.length - 1), true);
    if (!state.items.length && state.next) loadQueue(true, true);
  }

  async function decide(decision) {
    const it = current();
    if (!it || state.busy) return;
    const allowed = it.allowed_decisions || [];
    if (!allowed.includes(decision)) {
      complain(`A comment that is ${it.state} cannot be ${decision}d.`);
      return;
    }
    const reason = $('reason').value.trim();
    if (decision === 'reject' && !reason) {
      state.pendingReject = true;
      $('reason').focus();
      announce('Type the reason for rejecting, then press Enter.');
      return;
    }
    state.busy = true;
    $('approve').disabled = true;
    $('reject').disabled = true;
    try {
      const body = { decision, expected_state: it.state };
      if (reason) body.reason = reason;
      const res = await api('POST', '/v1/comments/' + encodeURIComponent(it.id) + '/decision', body);
      state.pendingReject = false;
      $('reason').value = '';
      const left = state.total - 1;
      announce(`${decision === 'approve' ? 'Approved' : 'Rejected'}. ${left} left in ${state.filters.status}.`);
      if (res.state === state.filters.status) {
        Object.assign(it, res);
        renderQueue();
        select(state.index, true);
      } else {
        removeCurrent();
      }
    } catch (e) {
      if (e.status === 409 && e.data) {
        complain(`Someone decided first: the comment is ${e.data.state} now.`);
        it.state = e.data.state;
        it.allowed_decisions = e.data.allowed_decisions || [];
        if (it.state !== state.filters.status) removeCurrent();
        else renderDetail(it);
      } else {
        handleError(e);
        renderDetail(it);
      }
    } finally {
      state.busy = false;
      const now = current();
      if (now) {
        $('approve').disabled = !(now.allowed_decisions || []).includes('approve');
        $('reject').disabled = !(now.allowed_decisions || []).includes('reject');
      }
    }
  }

  // ---- the author ----

  function renderAuthor(rec, author) {
    if (!rec) {
      $('author-body').hidden = true;
      $('author-none').hidden = false;
      return;
    }
    $('author-none').hidden = true;
    $('author-body').hidden = false;
    setText('a-name', (author && author.name) || rec.key);
    setText('a-key', author && author.name ? `(${rec.key})` : '');
    const badge = $('a-status');
    badge.className = 'badge ' + (['ok', 'probation', 'banned'].includes(rec.status) ? rec.status : 'ok');
    badge.textContent = rec.status === 'ok' ? 'in good standing' : rec.status;
    setText('a-source', rec.source ? `(${rec.source === 'strikes' ? 'by strikes' : 'by a moderator'})` : '');
    const p = rec.strike_policy || state.strikePolicy || {};
    setText('a-strikes', `${rec.strikes} in the last ${fmtDuration(p.window_s)} (probation at ${p.probation}, ban at ${p.ban})`);
    const c = rec.comments || {};
    const parts = ['accepted', 'approved', 'held', 'reported', 'rejected', 'blocked']
      .filter((s) => c[s]).map((s) => `${c[s]} ${s}`);
    setText('a-comments', `${c.total || 0}${parts.length ? ' (' + parts.join(', ') + ')' : ''}`);
    const s = rec.sanction;
    if (s) {
      const until = s.until ? `until ${fmtTime(s.until)}` : 'no expiry';
      setText('a-sanction', `${s.action}${s.active ? '' : ' (ended)'}, ${until}, by ${s.set_by || '?'}${s.reason ? ' — “' + s.reason + '”' : ''}`);
    } else {
      setText('a-sanction', 'none');
    }
  }

  async function sanction(action) {
    const it = current();
    const rec = it && it.author_record;
    if (!rec || state.busy) return;
    const reason = $('s-reason').value.trim();
    if (action !== 'clear' && !reason) {
      complain('A reason is required to sanction an author.');
      $('s-reason').focus();
      return;
    }
    const body = { action };
    if (reason) body.reason = reason;
    if (action !== 'clear' && $('s-until').value) body.until = $('s-until').value;
    state.busy = true;
    try {
      const res = await api('POST', '/v1/authors/' + encodeURIComponent(rec.key) + '/sanction', body);
      delete res.history;
      delete res.recent_strikes;
      for (const x of state.items) {
        if (x.author_record && x.author_record.key === rec.key) x.author_record = res;
      }
      $('s-reason').value = '';
      renderAuthor(res, it.author);
      const what = action === 'clear' ? 'Sanction lifted; strikes reset' : `Author ${action === 'ban' ? 'banned' : 'on probation'}`;
      announce(`${what}: ${rec.key}.`);
    } catch (e) {
      handleError(e);
    } finally {
      state.busy = false;
    }
  }

  // ---- keyboard ----

  function isTyping(t) {
    return t && (t.isContentEditable || t.tagName === 'INPUT' || t.tagName === 'TEXTAREA' ||
      t.tagName === 'SELECT');
  }

  function onKey(ev) {
    if (ev.defaultPrevented || ev.ctrlKey || ev.metaKey || ev.altKey) return;
    if ($('app').hidden || $('help').open) return;
    const t = ev.target;
    if (isTyping(t)) {
      if (t.id === 'reason' && ev.key === 'Enter') {
        ev.preventDefault();
        if (state.pendingReject) decide('reject');
        else announce('Press Approve or Reject (or Esc, then a or r).');
      } else if (ev.key === 'Escape') {
        state.pendingReject = false;
        const b = $('queue').querySelectorAll('button')[state.index];
        if (b) b.focus(); else t.blur();
      }
      return;
    }
    switch (ev.key) {
      case 'j': ev.preventDefault(); move(1); break;
      case 'k': ev.preventDefault(); move(-1); break;
      case 'a': ev.preventDefault(); decide('approve'); break;
      case 'r': ev.preventDefault(); decide('reject'); break;
      case '/': ev.preventDefault(); $('reason').focus(); break;
      case '?': ev.preventDefault(); $('help').showModal(); break;
      default: break;
    }
  }

  // ---- wiring ----

  function init() {
    $('login-form').addEventListener('submit', (ev) => {
      ev.preventDefault();
      const key = $('key').value.trim();
      if (key) signIn(key);
    });
    $('signout').addEventListener('click', () => signOut('Key forgotten. Enter a key to continue.'));
    $('help-open').addEventListener('click', () => $('help').showModal());
    $('filters').addEventListener('submit', (ev) => {
      ev.preventDefault();
      state.filters = {
        status: $('f-status').value,
        site: $('f-site').value.trim(),
        category: $('f-category').value,
      };
      state.index = -1;
      loadQueue(true, true);
    });
    $('refresh').addEventListener('click', () => loadQueue(true, false));
    $('more').addEventListener('click', () => loadQueue(false, false));
    $('decide').addEventListener('submit', (ev) => ev.preventDefault());
    $('sanction').addEventListener('submit', (ev) => ev.preventDefault());
    $('approve').addEventListener('click', () => decide('approve'));
    $('reject').addEventListener('click', () => decide('reject'));
    $('s-probation').addEventListener('click', () => sanction('probation'));
    $('s-ban').addEventListener('click', () => sanction('ban'));
    $('s-clear').addEventListener('click', () => sanction('clear'));
    document.addEventListener('keydown', onKey);

    let key = null;
    try { key = sessionStorage.getItem(KEY_STORE); } catch (e) { key = null; }
    if (key) {
      signIn(key).then((ok) => { if (!ok) showLogin(); });
    } else {
      showLogin();
    }
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', init);
  else init();
})();
