/* perspective.c - Perspective's commentanalyzer v1alpha1, as Coral and other clients call it:
 * POST /v1alpha1/comments:analyze and comments:suggestscore, with Google's error shape. Our
 * categories and rules become Perspective's six attributes through a documented mapping, and the
 * scores become probabilities through a table fitted on labeled data (tools/calibrate). */
#include "api_compat.h"

#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api_internal.h"
#include "log.h"
#include "metrics.h"
#include "store.h"

#define PERSPECTIVE_DUMP_FLAGS (JSON_COMPACT | JSON_REAL_PRECISION(8))
#define PERSPECTIVE_SITE "perspective" /* the site our analyze records are kept under */

static const char *const perspective_names[PA__COUNT] = {
    [PA_TOXICITY] = "TOXICITY",         [PA_SEVERE_TOXICITY] = "SEVERE_TOXICITY",
    [PA_IDENTITY_ATTACK] = "IDENTITY_ATTACK", [PA_INSULT] = "INSULT",
    [PA_PROFANITY] = "PROFANITY",       [PA_THREAT] = "THREAT",
};

const char *perspective_attr_name(perspective_attr a)
{
    return (unsigned)a < PA__COUNT ? perspective_names[a] : "?";
}

int perspective_attr_from_name(const char *name)
{
    for (int a = 0; a < PA__COUNT; a++)
        if (name && strcmp(name, perspective_names[a]) == 0)
            return a;
    return -1;
}

/* ---- the mapping ---- */

/* Rules that threaten or wish harm: the block-alone section of personal_attack.rules and the
 * calls to kill a group in ethnic_slur.rules. They count for THREAT and not for INSULT. A rule
 * renamed there must be renamed here. */
static const char *const perspective_threat_rules[] = {
    "personal_attack.self_harm",       "personal_attack.threat_harm",
    "personal_attack.wish_death",      "personal_attack.you_should_die",
    "personal_attack.know_where_you_live", "personal_attack.watch_your_back",
    "ethnic_slur.kill_group",          "ethnic_slur.group_should_die",
};

int perspective_rule_is_threat(const char *rule)
{
    for (size_t i = 0; rule && i < sizeof perspective_threat_rules / sizeof *perspective_threat_rules;
         i++)
        if (strcmp(rule, perspective_threat_rules[i]) == 0)
            return 1;
    return 0;
}

static double perspective_ratio(double score, double threshold)
{
    return threshold > 0 ? score / threshold : (score > 0 ? 1e9 : 0);
}

void perspective_features(const policy_config *pol, const mod_result *res, double feat[PA__COUNT])
{
    double threat = 0, threat_pa = 0;
    for (size_t i = 0; i < res->n_matches; i++)
        if (perspective_rule_is_threat(res->matches[i].rule)) {
            threat += res->matches[i].weight;
            if (res->matches[i].category == CAT_PERSONAL_ATTACK)
                threat_pa += res->matches[i].weight;
        }
    double tox = perspective_ratio(res->score, pol->total_hold);
    double sev = perspective_ratio(res->score, pol->total_block);
    for (int c = 0; c < CAT__COUNT; c++) {
        double h = perspective_ratio(res->categories[c], pol->hold[c]);
        double b = perspective_ratio(res->categories[c], pol->block[c]);
        tox = h > tox ? h : tox;
        sev = b > sev ? b : sev;
    }
    feat[PA_TOXICITY] = tox;
    feat[PA_SEVERE_TOXICITY] = sev;
    feat[PA_IDENTITY_ATTACK] = perspective_ratio(res->categories[CAT_ETHNIC_SLUR],
                                                 pol->hold[CAT_ETHNIC_SLUR]);
    double insult = res->categories[CAT_PERSONAL_ATTACK] - threat_pa;
    feat[PA_INSULT] = perspective_ratio(insult > 0 ? insult : 0, pol->hold[CAT_PERSONAL_ATTACK]);
    feat[PA_PROFANITY] = perspective_ratio(res->categories[CAT_PROFANITY], pol->hold[CAT_PROFANITY]);
    feat[PA_THREAT] = perspective_ratio(threat, pol->hold[CAT_PERSONAL_ATTACK]);
}

double perspective_match_feature(const policy_config *pol, const mod_match *m, perspective_attr a)
{
    int threat = perspective_rule_is_threat(m->rule);
    switch (a) {
    case PA_TOXICITY: {
        double t = perspective_ratio(m->weight, pol->hold[m->category]);
        double u = perspective_ratio(m->weight, pol->total_hold);
        return t > u ? t : u;
    }
    case PA_SEVERE_TOXICITY: {
        double t = perspective_ratio(m->weight, pol->block[m->category]);
        double u = perspective_ratio(m->weight, pol->total_block);
        return t > u ? t : u;
    }
    case PA_IDENTITY_ATTACK:
        return m->category == CAT_ETHNIC_SLUR ? perspective_ratio(m->weight, pol->hold[m->category])
                                              : 0;
    case PA_INSULT:
        return m->category == CAT_PERSONAL_ATTACK && !threat
                   ? perspective_ratio(m->weight, pol->hold[m->category])
                   : 0;
    case PA_PROFANITY:
        return m->category == CAT_PROFANITY ? perspective_ratio(m->weight, pol->hold[m->category])
                                            : 0;
    case PA_THREAT:
        return threat ? perspective_ratio(m->weight, pol->hold[CAT_PERSONAL_ATTACK]) : 0;
    default:
        return 0;
    }
}

/*
 * The calibration: for each attribute, knots (feature, probability) joined by straight lines,
 * flat past the last knot. Two knots at one feature make a step. Fitted by
 *     make BUILD=build calibrate      (tools/calibrate/features.c, then tools/calibrate/fit.mjs)
 * on every file of ../shared/data: per feature bin, P(bin | positive) and P(bin | negative) from
 * the labeled rows, turned into P(positive | bin) at the base rate of a news site's comment
 * stream (Bayes' rule with the prior below), then made monotone by isotonic regression (pool
 * adjacent violators). TOXICITY is pinned so that Coral's default threshold (withhold when
 * TOXICITY > 0.80) falls exactly on our hold threshold (feature 1): every bin below 1 is capped at
 * 0.80 and every bin from 1 on is raised to at least 0.81. fit.mjs prints this table; the figures
 * it measured are in docs/integrations.md.
 */
typedef struct {
    double x, p;
} perspective_knot;

#include "perspective_calibration.h"

double perspective_probability(perspective_attr a, double feature)
{
    if ((unsigned)a >= PA__COUNT)
        return 0;
    const perspective_knot *k = perspective_knots[a];
    size_t n = perspective_n_knots[a];
    if (n == 0)
        return 0;
    if (!(feature > k[0].x)) /* NaN lands here too */
        return k[0].p;
    size_t i = 0;
    while (i + 1 < n && k[i + 1].x <= feature)
        i++;
    if (i + 1 >= n)
        return k[n - 1].p;
    double span = k[i + 1].x - k[i].x;
    double t = span > 0 ? (feature - k[i].x) / span : 1;
    double p = k[i].p + t * (k[i + 1].p - k[i].p);
    return p < 0 ? 0 : p > 1 ? 1 : p;
}

/* ---- Google's error shape ---- */

static void perspective_reply_json(api_reply *rep, unsigned status, json_t *o)
{
    api_reply_dump(rep, status, o, PERSPECTIVE_DUMP_FLAGS, "application/json; charset=UTF-8",
                   "{\"error\":{\"code\":500,\"message\":\"out of memory\","
                   "\"status\":\"INTERNAL\"}}");
}

/* {"error": {"code", "message", "status", "details"?}}; takes details. */
static void perspective_error(api_reply *rep, unsigned code, const char *status, json_t *details,
                              const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static void perspective_error(api_reply *rep, unsigned code, const char *status, json_t *details,
                              const char *fmt, ...)
{
    char msg[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    json_t *e = json_pack("{s:i,s:s,s:s}", "code", (int)code, "message", msg, "status", status);
    if (!e) { /* msg was not UTF-8 (it quotes client input) */
        e = json_pack("{s:i,s:s,s:s}", "code", (int)code, "message", "invalid request", "status",
                      status);
    }
    if (e && details)
        json_object_set_new(e, "details", details);
    else
        json_decref(details);
    perspective_reply_json(rep, code, e ? json_pack("{s:o}", "error", e) : NULL);
}

static void perspective_error_from(api_reply *rep, const mod_error *err)
{
    switch (err->code) {
    case ERR_STORE:
        perspective_error(rep, 503, "UNAVAILABLE", NULL, "%s", err->message);
        break;
    case ERR_RULES:
    case ERR_INTERNAL:
        perspective_error(rep, 500, "INTERNAL", NULL, "%s", err->message);
        break;
    default:
        perspective_error(rep, 400, "INVALID_ARGUMENT", NULL, "%s", err->message);
        break;
    }
}

/* ---- authentication: ?key=, X-Goog-Api-Key, or Authorization: Bearer ---- */

static int perspective_auth(api_ctx *ctx, api_request *req, api_reply *rep)
{
    const char *key = api_arg(req, "key");
    if (!key && req->header)
        key = req->header(req->conn, "X-Goog-Api-Key");
    size_t len = key ? strlen(key) : 0;
    if (!key)
        key = api_bearer_key(req->authorization, &len);
    if (!key || !len) {
        perspective_error(rep, 403, "PERMISSION_DENIED", NULL,
                          "The request is missing a valid API key: pass ?key=KEY (a cms key).");
        return -1;
    }
    mod_error err = {0};
    if (api_authorize_key(ctx, req, key, len, API_ROLE_CMS, &err) == 0)
        return 0;
    if (err.code == ERR_UNAUTHORIZED) {
        json_t *d = json_pack("[{s:s,s:s,s:s}]", "@type", "type.googleapis.com/google.rpc.ErrorInfo",
                              "reason", "API_KEY_INVALID", "domain", "moderatord");
        perspective_error(rep, 400, "INVALID_ARGUMENT", d,
                          "API key not valid. Please pass a valid API key.");
    } else if (err.code == ERR_FORBIDDEN) {
        perspective_error(rep, 403, "PERMISSION_DENIED", NULL, "%s", err.message);
    } else {
        perspective_error_from(rep, &err);
    }
    return -1;
}

/* ---- parsing ---- */

static json_t *perspective_parse(const api_request *req, api_reply *rep)
{
    if (!req->body || req->body_len == 0) {
        perspective_error(rep, 400, "INVALID_ARGUMENT", NULL,
                          "The body is empty; expected a JSON request.");
        return NULL;
    }
    json_error_t je;
    json_t *doc = json_loadb(req->body, req->body_len, 0, &je);
    if (!doc) {
        perspective_error(rep, 400, "INVALID_ARGUMENT", NULL,
                          "Invalid JSON payload received at line %d, column %d: %s", je.line,
                          je.column, je.text);
        return NULL;
    }
    if (!json_is_object(doc)) {
        json_decref(doc);
        perspective_error(rep, 400, "INVALID_ARGUMENT", NULL,
                          "Invalid JSON payload received: the request must be an object.");
        return NULL;
    }
    return doc;
}

/* "en", "en-US", "en_GB"... */
static int perspective_lang_ok(const char *l)
{
    return strncasecmp(l, "en", 2) == 0 && (l[2] == '\0' || l[2] == '-' || l[2] == '_');
}

/* Checks "languages": NULL when fine (all supported or absent), else the first unsupported one.
 * -1 in *bad when the field is mistyped. */
static const char *perspective_languages(json_t *langs, int *bad)
{
    *bad = 0;
    if (!langs || json_is_null(langs))
        return NULL;
    if (!json_is_array(langs)) {
        *bad = -1;
        return NULL;
    }
    for (size_t i = 0; i < json_array_size(langs); i++) {
        json_t *l = json_array_get(langs, i);
        if (!json_is_string(l)) {
            *bad = -1;
            return NULL;
        }
        if (!perspective_lang_ok(json_string_value(l)))
            return json_string_value(l);
    }
    return NULL;
}

static json_t *perspective_languages_echo(json_t *langs)
{
    if (json_is_array(langs) && json_array_size(langs) > 0)
        return json_deep_copy(langs);
    return json_pack("[s]", "en");
}

/* ---- comments:analyze ---- */

typedef struct {
    int requested;
    double threshold; /* scores below are left out; -1 = none */
} perspective_req_attr;

static json_t *perspective_score(double v)
{
    /* float precision, like the service (format: float) */
    return json_pack("{s:f,s:s}", "value", (double)(float)v, "type", "PROBABILITY");
}

/* The spanScores of attribute a: one per matched span (UTF-16 offsets into the original text),
 * the same span from several rules scored once with its highest feature; a whole-text span with
 * the summary when nothing matched for a. */
static json_t *perspective_spans(const policy_config *pol, const mod_result *res,
                                 perspective_attr a, double summary, const char *orig,
                                 size_t orig_len, const char *text, size_t text_len,
                                 const size_t *map)
{
    json_t *arr = json_array();
    size_t n = res->n_matches;
    size_t *b = calloc(n + 1, sizeof *b), *e = calloc(n + 1, sizeof *e);
    double *f = calloc(n + 1, sizeof *f);
    size_t k = 0;
    for (size_t i = 0; b && e && f && i < n; i++) {
        const mod_match *m = &res->matches[i];
        double mf = perspective_match_feature(pol, m, a);
        if (mf <= 0)
            continue;
        size_t bs = m->start, be = m->end;
        if (map) { /* HTML: code points of the text -> bytes -> bytes of the original */
            size_t tb = compat_byte_offset(text, text_len, m->start);
            size_t te = compat_byte_offset(text, text_len, m->end);
            bs = map[tb];
            /* the end: just past the source of the match's last byte (a whole entity if that
             * byte came from one), not where the next text byte came from (after a tag) */
            be = te > tb ? map[te - 1] + 1 : bs;
            if (te > tb && orig[map[te - 1]] == '&') {
                const char *semi = memchr(orig + map[te - 1], ';', orig_len - map[te - 1]);
                be = semi ? (size_t)(semi - orig) + 1 : be;
            }
            /* back to code points of the original, for the UTF-16 conversion below */
            size_t cb = 0, ce = 0, cp = 0;
            for (size_t j = 0; j <= orig_len; j++) {
                if (j == orig_len || ((unsigned char)orig[j] & 0xC0) != 0x80) {
                    if (j == bs)
                        cb = cp;
                    if (j == be)
                        ce = cp;
                    cp++;
                }
            }
            bs = cb;
            be = ce;
        }
        size_t ub = compat_utf16_offset(orig, orig_len, bs);
        size_t ue = compat_utf16_offset(orig, orig_len, be);
        size_t j = 0;
        while (j < k && !(b[j] == ub && e[j] == ue))
            j++;
        if (j == k) {
            b[k] = ub;
            e[k] = ue;
            f[k] = mf;
            k++;
        } else if (mf > f[j]) {
            f[j] = mf;
        }
    }
    for (size_t j = 0; j < k; j++)
        json_array_append_new(arr, json_pack("{s:I,s:I,s:o}", "begin", (json_int_t)b[j], "end",
                                             (json_int_t)e[j], "score",
                                             perspective_score(perspective_probability(a, f[j]))));
    if (k == 0)
        json_array_append_new(arr, json_pack("{s:i,s:I,s:o}", "begin", 0, "end",
                                             (json_int_t)compat_utf16_offset(orig, orig_len,
                                                                             (size_t)-1),
                                             "score", perspective_score(summary)));
    free(b);
    free(e);
    free(f);
    return arr;
}

/* Our own headers: the verdict and the rules behind it, for clients that look. */
static void perspective_headers(api_reply *rep, const mod_result *res, const char *id)
{
    api_reply_header(rep, "X-Moderatord-Verdict", verdict_name(res->verdict));
    if (id)
        api_reply_header(rep, "X-Moderatord-Id", id);
    char rules[512];
    compat_rule_names(res, rules, sizeof rules);
    if (*rules)
        api_reply_header(rep, "X-Moderatord-Rules", rules);
}

api_status compat_perspective_analyze(api_ctx *ctx, api_request *req, api_reply *rep)
{
    if (perspective_auth(ctx, req, rep) != 0)
        return API_DONE;
    json_t *doc = perspective_parse(req, rep);
    if (!doc)
        return API_DONE;
    api_status ret = API_DONE;
    mod_ruleset *rs = NULL;
    mod_result res;
    memset(&res, 0, sizeof res);
    char *html_text = NULL, *matches = NULL;
    size_t *map = NULL;
    json_t *out = NULL;

    json_t *comment = json_object_get(doc, "comment");
    json_t *jtext = json_is_object(comment) ? json_object_get(comment, "text") : NULL;
    if (!json_is_string(jtext)) {
        perspective_error(rep, 400, "INVALID_ARGUMENT", NULL,
                          "comment.text is required and must be a string.");
        goto done;
    }
    const char *orig = json_string_value(jtext);
    size_t orig_len = json_string_length(jtext);
    if (orig_len == 0) {
        perspective_error(rep, 400, "INVALID_ARGUMENT", NULL, "Comment must be non-empty.");
        goto done;
    }
    json_t *jtype = json_object_get(comment, "type");
    if (jtype && !json_is_null(jtype) &&
        (!json_is_string(jtype) || (strcmp(json_string_value(jtype), "PLAIN_TEXT") != 0 &&
                                    strcmp(json_string_value(jtype), "HTML") != 0 &&
                                    strcmp(json_string_value(jtype), "TEXT_TYPE_UNSPECIFIED") != 0))) {
        perspective_error(rep, 400, "INVALID_ARGUMENT", NULL,
                          "comment.type must be PLAIN_TEXT, HTML or TEXT_TYPE_UNSPECIFIED.");
        goto done;
    }
    int is_html = json_is_string(jtype) && strcmp(json_string_value(jtype), "HTML") == 0;

    /* requestedAttributes: {NAME: {scoreType?, scoreThreshold?}} */
    perspective_req_attr want[PA__COUNT];
    memset(want, 0, sizeof want);
    json_t *ra = json_object_get(doc, "requestedAttributes");
    if (!json_is_object(ra) || json_object_size(ra) == 0) {
        perspective_error(rep, 400, "INVALID_ARGUMENT", NULL,
                          "requestedAttributes must name at least one attribute, e.g. "
                          "{\"TOXICITY\": {}}.");
        goto done;
    }
    const char *name;
    json_t *params;
    json_object_foreach(ra, name, params) {
        int a = perspective_attr_from_name(name);
        if (a < 0) {
            perspective_error(rep, 400, "INVALID_ARGUMENT", NULL,
                              "Requested attribute %.100s is not supported; supported: TOXICITY, "
                              "SEVERE_TOXICITY, IDENTITY_ATTACK, INSULT, PROFANITY, THREAT.",
                              name);
            goto done;
        }
        want[a].requested = 1;
        want[a].threshold = -1;
        if (params && !json_is_null(params) && !json_is_object(params)) {
            perspective_error(rep, 400, "INVALID_ARGUMENT", NULL,
                              "requestedAttributes.%s must be an object.", name);
            goto done;
        }
        json_t *st = json_object_get(params, "scoreType");
        if (st && !json_is_null(st) &&
            (!json_is_string(st) || (strcmp(json_string_value(st), "PROBABILITY") != 0 &&
                                     strcmp(json_string_value(st), "SCORE_TYPE_UNSPECIFIED") != 0))) {
            perspective_error(rep, 400, "INVALID_ARGUMENT", NULL,
                              "requestedAttributes.%s.scoreType: only PROBABILITY is supported.",
                              name);
            goto done;
        }
        json_t *th = json_object_get(params, "scoreThreshold");
        if (th && !json_is_null(th)) {
            if (!json_is_number(th) || json_number_value(th) < 0 || json_number_value(th) > 1) {
                perspective_error(rep, 400, "INVALID_ARGUMENT", NULL,
                                  "requestedAttributes.%s.scoreThreshold must be a number in "
                                  "[0, 1].", name);
                goto done;
            }
            want[a].threshold = json_number_value(th);
        }
    }

    json_t *langs = json_object_get(doc, "languages");
    int lang_bad;
    const char *unsupported = perspective_languages(langs, &lang_bad);
    if (lang_bad) {
        perspective_error(rep, 400, "INVALID_ARGUMENT", NULL,
                          "languages must be an array of language codes.");
        goto done;
    }
    int drop = json_is_true(json_object_get(doc, "dropUnsupportedAttributes"));
    if (unsupported && !drop) {
        const char *first = NULL;
        for (int a = 0; a < PA__COUNT && !first; a++)
            if (want[a].requested)
                first = perspective_names[a];
        json_t *d = json_pack("[{s:s,s:s,s:{s:O,s:[s],s:s}}]", "@type",
                              "type.googleapis.com/google.commentanalyzer.v1alpha1.Error",
                              "errorType", "LANGUAGE_NOT_SUPPORTED_BY_ATTRIBUTE",
                              "languageNotSupportedByAttributeError", "requestedLanguages", langs,
                              "detectedLanguages", "en", "attribute", first);
        perspective_error(rep, 400, "INVALID_ARGUMENT", d,
                          "Attribute %s does not support request languages: %.40s", first,
                          unsupported);
        goto done;
    }
    json_t *flag = json_object_get(doc, "doNotStore");
    if (flag && !json_is_null(flag) && !json_is_boolean(flag)) {
        perspective_error(rep, 400, "INVALID_ARGUMENT", NULL, "doNotStore must be a boolean.");
        goto done;
    }
    int do_not_store = json_is_true(flag);
    int spans = json_is_true(json_object_get(doc, "spanAnnotations"));
    json_t *token = json_object_get(doc, "clientToken");
    if (token && !json_is_null(token) && !json_is_string(token)) {
        perspective_error(rep, 400, "INVALID_ARGUMENT", NULL, "clientToken must be a string.");
        goto done;
    }
    /* context, communityId, sessionId: accepted and not used. */

    const char *text = orig;
    size_t text_len = orig_len;
    if (is_html) {
        if (!(html_text = compat_html_text(orig, orig_len, &text_len, &map))) {
            perspective_error(rep, 500, "INTERNAL", NULL, "out of memory");
            goto done;
        }
        text = html_text;
    }

    if (!(rs = api_ruleset_acquire(ctx))) {
        perspective_error(rep, 500, "INTERNAL", NULL, "no rule set is loaded");
        goto done;
    }
    mod_input in = {.text = text, .len = text_len};
    mod_error err = {0};
    if (engine_check(rs, &in, &res, &err) != 0) {
        perspective_error_from(rep, &err);
        goto done;
    }
    metrics_verdict(res.verdict, res.categories);
    const policy_config *pol = ruleset_policy(rs);
    double feat[PA__COUNT];
    perspective_features(pol, &res, feat);

    out = json_object();
    json_t *scores = json_object();
    json_object_set_new(out, "attributeScores", scores);
    for (int a = 0; a < PA__COUNT && !(unsupported && drop); a++) {
        if (!want[a].requested)
            continue;
        double p = perspective_probability((perspective_attr)a, feat[a]);
        if (want[a].threshold >= 0 && p < want[a].threshold)
            continue;
        json_t *as = json_pack("{s:o}", "summaryScore", perspective_score(p));
        if (spans)
            json_object_set_new(as, "spanScores",
                                perspective_spans(pol, &res, (perspective_attr)a, p, orig,
                                                  orig_len, text, text_len, map));
        json_object_set_new(scores, perspective_names[a], as);
    }
    json_object_set_new(out, "languages", perspective_languages_echo(langs));
    json_object_set_new(out, "detectedLanguages", json_pack("[s]", "en"));
    if (json_is_string(token))
        json_object_set(out, "clientToken", token);

    /* The same text analyzed again is already on record (first analysis kept): not stored
     * twice. Records are keyed by the text's SHA-256 under site "perspective", which is also how
     * suggestscore finds them. */
    char hash[65];
    compat_sha256_hex(text, text_len, hash);
    comment_record old = {0};
    int found = store_find_comment(api_store(ctx), PERSPECTIVE_SITE, hash, &old, &err);
    if (found < 0) {
        perspective_error(rep, 503, "UNAVAILABLE", NULL, "the store is unavailable: %s",
                          err.message);
        goto done;
    }
    if (found == 0) {
        perspective_reply_json(rep, 200, out);
        out = NULL;
        perspective_headers(rep, &res, old.id);
        comment_record_free(&old);
        goto done;
    }

    char id[33];
    if (api_new_id(id) != 0 || !(matches = api_matches_json(&res, !do_not_store))) {
        perspective_error(rep, 500, "INTERNAL", NULL, "cannot make a comment id");
        goto done;
    }
    comment_record rec = {
        .id = id,
        .site = PERSPECTIVE_SITE,
        .ext_id = hash,
        .text = (char *)text,
        .text_withheld = do_not_store,
    };
    api_record_verdict(&rec, &res, rs, matches);
    api_reply prepared = {0};
    perspective_reply_json(&prepared, 200, out);
    out = NULL;
    perspective_headers(&prepared, &res, id);
    ret = compat_store_and_reply(ctx, req, rep, &rec, &prepared, perspective_error_from,
                                 compat_perspective_budget_ms(), "perspective");
done:
    json_decref(out);
    free(matches);
    free(html_text);
    free(map);
    engine_result_free(&res);
    if (rs)
        ruleset_unref(rs);
    json_decref(doc);
    return ret;
}

/* ---- comments:suggestscore ---- */

api_status compat_perspective_suggest(api_ctx *ctx, api_request *req, api_reply *rep)
{
    if (perspective_auth(ctx, req, rep) != 0)
        return API_DONE;
    json_t *doc = perspective_parse(req, rep);
    if (!doc)
        return API_DONE;
    json_t *data = NULL;
    char *data_s = NULL;
    comment_record rec = {0};

    json_t *comment = json_object_get(doc, "comment");
    json_t *jtext = json_is_object(comment) ? json_object_get(comment, "text") : NULL;
    if (!json_is_string(jtext)) {
        perspective_error(rep, 400, "INVALID_ARGUMENT", NULL,
                          "comment.text is required and must be a string.");
        goto done;
    }
    json_t *scores = json_object_get(doc, "attributeScores");
    if (!json_is_object(scores) || json_object_size(scores) == 0) {
        perspective_error(rep, 400, "INVALID_ARGUMENT", NULL,
                          "attributeScores must not be empty.");
        goto done;
    }
    json_t *labels = json_object();
    data = json_pack("{s:s,s:o}", "source", "perspective", "attributes", labels);
    const char *name;
    json_t *as;
    json_object_foreach(scores, name, as) {
        json_t *sum = json_is_object(as) ? json_object_get(as, "summaryScore") : NULL;
        json_t *val = json_is_object(sum) ? json_object_get(sum, "value") : NULL;
        json_t *spn = json_is_object(as) ? json_object_get(as, "spanScores") : NULL;
        if (!json_is_object(as) || (!json_is_number(val) && !json_is_array(spn))) {
            perspective_error(rep, 400, "INVALID_ARGUMENT", NULL,
                              "attributeScores.%.100s must have a summaryScore with a value, or "
                              "spanScores.", name);
            goto done;
        }
        if (perspective_attr_from_name(name) < 0) {
            perspective_error(rep, 400, "INVALID_ARGUMENT", NULL,
                              "Attribute %.100s is not supported.", name);
            goto done;
        }
        if (json_is_number(val))
            json_object_set_new(labels, name, json_real(json_number_value(val)));
        else
            json_object_set_new(labels, name, json_null());
    }
    int lang_bad;
    const char *unsupported = perspective_languages(json_object_get(doc, "languages"), &lang_bad);
    if (lang_bad || unsupported) {
        perspective_error(rep, 400, "INVALID_ARGUMENT", NULL,
                          "languages must be English language codes (\"en\").");
        goto done;
    }
    const char *fields[][2] = {{"communityId", "community_id"}, {"clientToken", "client_token"},
                               {"sessionId", "session_id"}};
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
        json_t *v = json_object_get(doc, fields[i][0]);
        if (json_is_string(v))
            json_object_set(data, fields[i][1], v);
    }
    /* Coral puts its own comment id in the first context entry, as JSON. */
    json_t *ctxs = json_object_get(json_object_get(doc, "context"), "entries");
    json_t *first = json_is_array(ctxs) ? json_object_get(json_array_get(ctxs, 0), "text") : NULL;
    if (json_is_string(first)) {
        json_t *cj = json_loads(json_string_value(first), 0, NULL);
        json_t *cid = json_object_get(cj, "Coral_comment_id");
        if (json_is_string(cid))
            json_object_set(data, "coral_comment_id", cid);
        json_decref(cj);
    }

    const char *text = json_string_value(jtext);
    size_t text_len = json_string_length(jtext);
    char hash[65];
    compat_sha256_hex(text, text_len, hash);
    json_object_set_new(data, "text_sha256", json_string(hash));
    mod_error err = {0};
    int found = store_find_comment(api_store(ctx), PERSPECTIVE_SITE, hash, &rec, &err);
    if (found < 0) {
        perspective_error(rep, 503, "UNAVAILABLE", NULL, "the store is unavailable: %s",
                          err.message);
        goto done;
    }
    if (found == 0)
        json_object_set_new(data, "verdict", json_string(rec.verdict));
    data_s = json_dumps(data, JSON_COMPACT | JSON_SORT_KEYS);
    if (!data_s) {
        perspective_error(rep, 500, "INTERNAL", NULL, "out of memory");
        goto done;
    }
    long seq = 0;
    if (store_event_add(api_store(ctx), "feedback", found == 0 ? rec.id : NULL, req->key_name,
                        data_s, &seq, &err) != 0) {
        log_msg("perspective: feedback not recorded: %s", err.message);
        perspective_error_from(rep, &err);
        goto done;
    }
    metrics_compat_event("perspective", found == 0 ? "feedback" : "feedback_unmatched");
    json_t *out = json_object();
    json_t *token = json_object_get(doc, "clientToken");
    if (json_is_string(token))
        json_object_set(out, "clientToken", token);
    json_t *langs = json_object_get(doc, "languages");
    json_object_set_new(out, "requestedLanguages",
                        json_is_array(langs) ? json_deep_copy(langs) : json_array());
    json_object_set_new(out, "detectedLanguages", json_pack("[s]", "en"));
    perspective_reply_json(rep, 200, out);
    if (found == 0)
        api_reply_header(rep, "X-Moderatord-Id", rec.id);
    char seqs[32];
    snprintf(seqs, sizeof seqs, "%ld", seq);
    api_reply_header(rep, "X-Moderatord-Event", seqs);
done:
    comment_record_free(&rec);
    free(data_s);
    json_decref(data);
    json_decref(doc);
    return API_DONE;
}
