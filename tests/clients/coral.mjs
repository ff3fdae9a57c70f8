// coral.mjs - Coral's two outbound calls, rebuilt the way Coral's server code makes them (talk,
// server/src/core/server/services/perspective/perspective.ts and
// services/comments/pipeline/phases/external.ts with services/fetch), so the tests send exactly
// what a Coral install would send to moderatord.
import crypto from 'node:crypto';
import path from 'node:path';
import { URL } from 'node:url';

// perspective.ts: formatBody()
function formatBody(req) {
  const language = 'en'; // convertLanguage('en-US')
  switch (req.operation) {
    case 'comments:analyze':
      return {
        comment: { text: req.body.text },
        doNotStore: req.body.doNotStore,
        requestedAttributes: { [req.body.model]: {} },
        languages: [language],
      };
    case 'comments:suggestscore':
      return {
        comment: { text: req.body.text },
        context: {
          entries: [{
            text: JSON.stringify({
              url: `${req.body.storyURL}?commentID=${req.body.commentID}`,
              reply_to_id_Coral_comment_id: req.body.commentParentID,
              Coral_comment_id: req.body.commentID,
            }),
          }],
        },
        attributeScores: {
          [req.body.model]: { summaryScore: { value: req.body.commentStatus === 'APPROVED' ? 0 : 1 } },
        },
        languages: [language],
        communityId: `Coral:${req.body.tenantURL}`,
        clientToken: `comment:${req.body.commentID}`,
      };
  }
  throw new Error(`unknown operation ${req.operation}`);
}

// perspective.ts: sendToPerspective({endpoint, key, timeout}, req). Coral's default timeout for
// Perspective is 800 ms.
export async function sendToPerspective({ endpoint, key, timeout = 800 }, req) {
  const url = new URL(endpoint.trim());
  url.pathname = path.join(url.pathname, `/${req.operation}`);
  url.searchParams.set('key', key.trim());
  const body = JSON.stringify(formatBody(req));
  const res = await fetch(url.toString(), {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body,
    signal: AbortSignal.timeout(timeout),
  });
  const text = await res.text();
  return { ok: res.ok, status: res.status, headers: res.headers, data: res.ok ? JSON.parse(text) : null, text };
}

// toxic.ts: the decision Coral takes with the score (TOXICITY_THRESHOLD_DEFAULT = 80).
export function coralIsToxic(data, model = 'TOXICITY', threshold = 0.8) {
  const score = data.attributeScores[model].summaryScore.value;
  return { score, isToxic: score > threshold };
}

// models/settings: generateSignatures(); fetch.ts: generateFetchOptions()
export function generateSignatures(secrets, data) {
  return secrets
    .map(secret => crypto.createHmac('sha256', secret).update(data).digest().toString('hex'))
    .map(signature => `sha256=${signature}`)
    .join(',');
}

export function generateFetchOptions(secrets, data) {
  const body = JSON.stringify(data, null, 2);
  const signature = generateSignatures(secrets, body);
  return {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', 'X-Coral-Signature': signature },
    body,
  };
}

// external.ts: the ExternalModerationRequest of processPhase()
export function moderationRequest(body, { parentID = null, action = 'NEW' } = {}) {
  return {
    action,
    comment: { body, parentID: parentID || null },
    author: { id: 'baf4e943-3594-4fcc-b2ba-3e8de7a76352', role: 'COMMENTER' },
    story: { id: '245b3856-b0a0-4d2f-a6bb-58c71f18d6a6', url: 'http://localhost:1313/posts/a-story-url/' },
    site: { id: 'a4bede88-2d2c-4424-bc18-4322a9e285a6' },
    tenantID: '19ba5794-7eeb-4d46-a81b-c00c61672501',
    tenantDomain: 'localhost',
  };
}

// external.ts: ExternalModerationResponseSchema (Joi, stripUnknown) as a plain check.
const STATUSES = ['NONE', 'APPROVED', 'REJECTED', 'PREMOD', 'SYSTEM_WITHHELD'];
export function validateResponse(body) {
  const out = {};
  if (body.actions !== undefined) {
    if (!Array.isArray(body.actions)) throw new Error('"actions" must be an array');
    out.actions = body.actions.map(a => {
      if (a.actionType !== 'FLAG') throw new Error(`"actionType" must be [FLAG]: ${a.actionType}`);
      if (!['COMMENT_DETECTED_TOXIC', 'COMMENT_DETECTED_SPAM'].includes(a.reason))
        throw new Error(`"reason" not allowed: ${a.reason}`);
      return { actionType: a.actionType, reason: a.reason };
    });
  }
  if (body.status !== undefined) {
    if (!STATUSES.includes(body.status)) throw new Error(`"status" not allowed: ${body.status}`);
    out.status = body.status;
  }
  if (body.tags !== undefined) {
    if (!Array.isArray(body.tags) || body.tags.some(t => !['FEATURED', 'STAFF'].includes(t)))
      throw new Error('"tags" not allowed');
    out.tags = body.tags;
  }
  return out;
}

// external.ts: processPhase() after the request is built. Returns {res, response} where response
// is undefined when Coral would carry on without a result (non-2xx, 204, empty).
export async function processPhase(url, secrets, request, timeout = 1000) {
  const options = generateFetchOptions(secrets, request);
  const res = await fetch(url, {
    ...options,
    headers: { 'User-Agent': 'Coral Moderation/9.0.0', ...options.headers },
    redirect: 'manual',
    signal: AbortSignal.timeout(timeout),
  });
  if (!res.ok) return { res, response: undefined };
  const text = await res.text();
  if (res.status === 204 || text === '' || text === '{}') return { res, response: undefined };
  return { res, response: validateResponse(JSON.parse(text)), raw: JSON.parse(text) };
}
