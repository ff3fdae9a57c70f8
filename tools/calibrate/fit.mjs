// fit.mjs - fits the Perspective calibration table from the features that calibrate-features
// printed, and writes daemon/perspective_calibration.h to stdout (a report goes to stderr).
//     node tools/calibrate/fit.mjs build/calibration.tsv > daemon/perspective_calibration.h
// (`make calibrate` runs both steps.) Method, per attribute:
//   1. bin the feature (units of the policy's hold threshold: 1 = this part alone holds);
//   2. estimate P(bin | positive) and P(bin | negative) from the labeled rows (+0.5 smoothing);
//   3. Bayes' rule at PRIOR[attr] gives P(positive | bin) = p L1 / (p L1 + (1-p) L0). The files mix
//      sources with very different toxic shares (davidson 83%, wiki 0.6%), so their pooled share
//      means nothing and the prior is chosen: TOXICITY at equal priors (a stream half toxic), the
//      prior at which Coral's default 0.80 falls on our hold threshold with room on both sides
//      (at a news site's 8% the comments we hold would read 0.37-0.59 and 0.80 would withhold
//      nothing); the five others at news-site base rates (Civil Comments, share of comments raters
//      scored >= 0.5, rounded), so clean text reads near 0 on them. A reader whose own share is q
//      converts a score s by odds s/(1-s) * (q/(1-q)) / (p/(1-p));
//   4. pool adjacent violators (isotonic regression, weighted by each bin's rows) makes it
//      non-decreasing in the feature;
//   5. check, for TOXICITY, that every bin below 1 is under 0.80 and every bin from 1 on above it,
//      so that Coral's default rule (withhold when TOXICITY > 0.80) withholds exactly what we
//      hold; the fit fails (exit 1) rather than bend the numbers when it is not so.
import fs from 'node:fs';

const ATTRS = ['TOXICITY', 'SEVERE_TOXICITY', 'IDENTITY_ATTACK', 'INSULT', 'PROFANITY', 'THREAT'];
// See 3. above.
const PRIOR = {
  TOXICITY: 0.5, SEVERE_TOXICITY: 0.012, IDENTITY_ATTACK: 0.008, INSULT: 0.06, PROFANITY: 0.02,
  THREAT: 0.003,
};
// Which rows are positive (1), negative (0) or unlabeled for the attribute (null).
const clean = r => r.expected === 'accept';
const byLabel = (r, v) => (v === 1 ? 1 : v === 0 || clean(r) ? 0 : null);
const LABEL = {
  TOXICITY: r => (r.toxic === 1 ? 1 : r.toxic === 0 ? 0 : null),
  SEVERE_TOXICITY: r => (r.expected === 'block' ? 1 : 0),
  IDENTITY_ATTACK: r => byLabel(r, r.identity_attack),
  INSULT: r => byLabel(r, r.insult),
  // OLID marks a targeted insult profanity=0 even when it swears: only clean rows are negatives.
  PROFANITY: r => (r.profanity === 1 ? 1 : clean(r) ? 0 : null),
  THREAT: r => byLabel(r, r.threat),
};
// Bin edges in feature units; [0] is "nothing matched". Below 1 / from 1 on never share a bin.
const EDGES = [0, 1e-9, 0.5, 1, 1.5, 2, 3, 5];
const binOf = x => {
  let b = 0;
  for (let i = 1; i < EDGES.length; i++) if (x >= EDGES[i]) b = i;
  return b;
};

const file = process.argv[2];
if (!file) {
  console.error('usage: node fit.mjs FEATURES.tsv');
  process.exit(2);
}
const lines = fs.readFileSync(file, 'utf8').split('\n').filter(Boolean);
const head = lines.shift().split('\t');
const col = name => head.indexOf(name);
const rows = lines.map(l => {
  const f = l.split('\t');
  const r = {
    file: f[col('file')], toxic: +f[col('toxic')], insult: +f[col('insult')],
    profanity: +f[col('profanity')], identity_attack: +f[col('identity_attack')],
    threat: +f[col('threat')], expected: f[col('expected')], verdict: f[col('verdict')],
  };
  for (const a of ATTRS) r[a] = +f[col(a)];
  return r;
});

function pav(p, w) {
  // blocks of [value, weight, count]
  const blocks = [];
  for (let i = 0; i < p.length; i++) {
    blocks.push([p[i], w[i], 1]);
    while (blocks.length > 1 && blocks[blocks.length - 2][0] > blocks[blocks.length - 1][0]) {
      const b = blocks.pop(), a = blocks.pop();
      const wt = a[1] + b[1];
      blocks.push([wt > 0 ? (a[0] * a[1] + b[0] * b[1]) / wt : (a[0] + b[0]) / 2, wt, a[2] + b[2]]);
    }
  }
  const out = [];
  for (const [v, , n] of blocks) for (let i = 0; i < n; i++) out.push(v);
  return out;
}

const round = x => Math.round(x * 1e4) / 1e4;
const tables = {};
const report = [];
for (const a of ATTRS) {
  const nb = EDGES.length;
  const pos = new Array(nb).fill(0), neg = new Array(nb).fill(0), sumx = new Array(nb).fill(0);
  const cnt = new Array(nb).fill(0);
  let np = 0, nn = 0;
  for (const r of rows) {
    const y = LABEL[a](r);
    if (y === null) continue;
    const b = binOf(r[a]);
    sumx[b] += r[a];
    cnt[b]++;
    if (y) { pos[b]++; np++; } else { neg[b]++; nn++; }
  }
  const pi = PRIOR[a];
  const p = [], w = [];
  for (let b = 0; b < nb; b++) {
    if (!cnt[b]) { p.push(null); w.push(0); continue; } /* empty: no knot, no say in the fit */
    const l1 = (pos[b] + 0.5) / (np + 0.5 * nb), l0 = (neg[b] + 0.5) / (nn + 0.5 * nb);
    p.push((pi * l1) / (pi * l1 + (1 - pi) * l0));
    w.push(pi * l1 + (1 - pi) * l0);
  }
  const used = p.map((v, b) => b).filter(b => cnt[b]);
  const isoUsed = pav(used.map(b => p[b]), used.map(b => w[b]));
  const iso = new Array(nb).fill(null);
  used.forEach((b, i) => { iso[b] = isoUsed[i]; });
  if (a === 'TOXICITY') {
    const below = Math.max(...iso.filter((v, b) => v !== null && EDGES[b] < 1));
    const above = Math.min(...iso.filter((v, b) => v !== null && EDGES[b] >= 1));
    if (!(below < 0.8 && above > 0.8)) {
      console.error(`TOXICITY: bins below the hold threshold reach ${below}, bins from it on start at ${above}: 0.80 does not separate them`);
      process.exit(1);
    }
  }
  // Knots: each populated bin at its mean feature; a step at 1.
  const knots = [];
  let stepped = false;
  for (let b = 0; b < nb; b++) {
    if (!cnt[b]) continue;
    const x = sumx[b] / cnt[b];
    if (EDGES[b] >= 1 && !stepped) { /* the step at 1: flat up to it, the new level from it */
      stepped = true;
      if (knots.length) knots.push([1, knots[knots.length - 1][1]]);
      knots.push([1, iso[b]]);
    }
    if (!(Math.abs(x - 1) < 1e-9 && EDGES[b] >= 1)) knots.push([x, iso[b]]);
  }
  tables[a] = knots.map(([x, v]) => [round(x), round(v)]);
  report.push({ attr: a, prior: pi, positives: np, negatives: nn,
    bins: EDGES.map((e, b) => ({ from: e, pos: pos[b], neg: neg[b], raw: p[b] === null ? null : round(p[b]), fitted: iso[b] === null ? null : round(iso[b]) })) });
}

// How Coral's default (withhold when TOXICITY > 0.80) lines up with our hold, row by row.
const prob = (a, x) => {
  const k = tables[a];
  if (!(x > k[0][0])) return k[0][1];
  let i = 0;
  while (i + 1 < k.length && k[i + 1][0] <= x) i++;
  if (i + 1 >= k.length) return k[k.length - 1][1];
  const span = k[i + 1][0] - k[i][0];
  const t = span > 0 ? (x - k[i][0]) / span : 1;
  return k[i][1] + t * (k[i + 1][1] - k[i][1]);
};
let agree = 0;
const perFile = {};
for (const r of rows) {
  const coral = prob('TOXICITY', r.TOXICITY) > 0.8;
  const ours = r.verdict !== 'accept';
  if (coral === ours) agree++;
  const f = (perFile[r.file] ??= { rows: 0, withheld: 0, held: 0, agree: 0 });
  f.rows++;
  f.withheld += coral;
  f.held += ours;
  f.agree += coral === ours;
}
// Calibration check at the prior: expected vs observed positive share per bin is what the fit
// equates by construction; report the Brier score on each file instead (raw labels, no prior).
const brier = {};
for (const r of rows) {
  const y = LABEL.TOXICITY(r);
  if (y === null) continue;
  const e = (brier[r.file] ??= { n: 0, sum: 0 });
  e.n++;
  e.sum += (prob('TOXICITY', r.TOXICITY) - y) ** 2;
}
console.error(JSON.stringify({ rows: rows.length, coral_vs_hold_agreement: round(agree / rows.length),
  per_file: perFile, toxicity_brier: Object.fromEntries(Object.entries(brier).map(([k, v]) => [k, round(v.sum / v.n)])),
  fits: report }, null, 1));

const today = new Date().toISOString().slice(0, 10);
let out = `/* perspective_calibration.h - generated by tools/calibrate/fit.mjs (make calibrate) on ${today}
 * from ${rows.length} labeled rows of ../shared/data; do not edit by hand, refit after changing the rules.
 * Included by perspective.c only. Knots are (feature, probability) at equal priors; see the
 * comment there.
 * Coral's default (TOXICITY > 0.80) agrees with our hold on ${round(100 * agree / rows.length)}% of the rows. */
`;
for (let i = 0; i < ATTRS.length; i++) {
  out += `static const perspective_knot perspective_k_${ATTRS[i].toLowerCase()}[] = {\n    `;
  out += tables[ATTRS[i]].map(([x, v]) => `{${x}, ${v}}`).join(', ');
  out += '};\n';
}
out += `static const perspective_knot *const perspective_knots[PA__COUNT] = {\n`;
out += ATTRS.map(a => `    [PA_${a}] = perspective_k_${a.toLowerCase()},\n`).join('');
out += '};\nstatic const size_t perspective_n_knots[PA__COUNT] = {\n';
out += ATTRS.map(a => `    [PA_${a}] = ${tables[a].length},\n`).join('');
out += '};\n';
process.stdout.write(out);
