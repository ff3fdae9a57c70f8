/* api_compat.h - drop-in protocols of services sites already call, answered by our engine:
 * Perspective (comments:analyze, comments:suggestscore), Akismet (comment-check, submit-spam,
 * submit-ham, verify-key) and Coral's external moderation phase. Each handler authenticates the
 * way its protocol does and answers in that protocol's shapes; verdicts are stored like
 * POST /v1/comments (committed before the reply), feedback becomes an audit event.
 * api_compat.c holds what they share; perspective.c, akismet.c, coral.c one protocol each. */
#ifndef MODERATORD_API_COMPAT_H
#define MODERATORD_API_COMPAT_H

#include <stddef.h>

#include "api.h"
#include "engine.h"
#include "ruleset.h"

/* ---- configuration (main.c sets it once, before serving) ---- */

#define COMPAT_MAX_CORAL_SECRETS 4

typedef struct {
    /* Coral's signing secrets: a request is accepted when its X-Coral-Signature carries an HMAC
     * of the body under any of them (two during a rotation). None: the Coral route answers 404. */
    char *coral_secrets[COMPAT_MAX_CORAL_SECRETS];
    size_t n_coral_secrets;
    /* How long a Coral phase / Perspective analyze waits for its verdict's commit before it answers
     * anyway (the record is still committed; the reply says X-Moderatord-Stored: pending).
     * 0 waits for the commit however long it takes. */
    unsigned coral_budget_ms, perspective_budget_ms;
} compat_config;

#define COMPAT_DEFAULT_CORAL_BUDGET_MS 500
#define COMPAT_DEFAULT_PERSPECTIVE_BUDGET_MS 600

/* Reads Coral signing secrets from path, one per line (blank lines and #comments skipped).
 * Returns 0, or -1 with err naming the file and the problem. */
int compat_load_coral_secrets(compat_config *cfg, const char *path, mod_error *err);
void compat_config_free(compat_config *cfg);

/* Starts the time-budget timer and takes a copy of cfg. Without it (moderatorctl, unit tests)
 * nothing is answered before its commit and the Coral route answers 404. Returns 0 or -1. */
int compat_start(const compat_config *cfg, mod_error *err);
/* Stops the timer; after http_stop. Safe to call when compat_start was not. */
void compat_stop(void);

/* ---- the routes (see the table in http.c) ---- */

api_status compat_perspective_analyze(api_ctx *ctx, api_request *req, api_reply *rep);
api_status compat_perspective_suggest(api_ctx *ctx, api_request *req, api_reply *rep);
api_status compat_akismet_check(api_ctx *ctx, api_request *req, api_reply *rep);
api_status compat_akismet_submit_spam(api_ctx *ctx, api_request *req, api_reply *rep);
api_status compat_akismet_submit_ham(api_ctx *ctx, api_request *req, api_reply *rep);
api_status compat_akismet_verify_key(api_ctx *ctx, api_request *req, api_reply *rep);
api_status compat_coral_phase(api_ctx *ctx, api_request *req, api_reply *rep);

/* ---- Perspective's attributes from our scores (perspective.c; pure, for the calibration) ---- */

typedef enum {
    PA_TOXICITY = 0,
    PA_SEVERE_TOXICITY,
    PA_IDENTITY_ATTACK,
    PA_INSULT,
    PA_PROFANITY,
    PA_THREAT,
    PA__COUNT
} perspective_attr;

const char *perspective_attr_name(perspective_attr a);
/* -1 when name is not one of ours. */
int perspective_attr_from_name(const char *name);

/* 1 when a match of this rule counts as a threat (THREAT, and not INSULT). */
int perspective_rule_is_threat(const char *rule);

/*
 * The raw feature of each attribute for a result, in units of the policy's thresholds, so that a
 * feature of 1 is the score at which that part alone would hold the comment:
 *   TOXICITY         max over categories of score/hold, and total/total_hold (>= 1 exactly when
 *                    the verdict is hold or block)
 *   SEVERE_TOXICITY  the same with the block thresholds (>= 1 exactly when the verdict is block)
 *   IDENTITY_ATTACK  ethnic_slur / its hold
 *   INSULT           personal_attack without the threat rules / its hold
 *   PROFANITY        profanity / its hold
 *   THREAT           the threat rules' weight (personal_attack's and ethnic_slur's) / the
 *                    personal_attack hold
 */
void perspective_features(const policy_config *pol, const mod_result *res,
                          double feat[PA__COUNT]);
/* The feature one match alone contributes to attribute a (0 when it does not count for a). */
double perspective_match_feature(const policy_config *pol, const mod_match *m, perspective_attr a);
/* A feature mapped to a calibrated probability in [0, 1] by the fitted table. */
double perspective_probability(perspective_attr a, double feature);

/* ---- helpers shared by the protocols (api_compat.c; pure, unit-tested) ---- */

/* One decoded application/x-www-form-urlencoded field. */
typedef struct {
    char *name, *value;
    size_t value_len;
} compat_field;

/* Decodes a form body ('+' and %XX). Returns the number of fields (malloc'd array in *out, free
 * with compat_form_free) or -1 on malformed escapes or out of memory. */
int compat_form_parse(const char *body, size_t len, compat_field **out);
void compat_form_free(compat_field *f, int n);
/* The value of the first field named name, or NULL. */
const char *compat_form_get(const compat_field *f, int n, const char *name);

/* The first DNS label of a Host header ("mk_1f.example.com:8080" -> "mk_1f") into out, when the
 * host has at least two labels and the first looks like one of our keys ("mk_"). 0 or -1. */
int compat_host_key(const char *host, char *out, size_t out_len);

/* Verifies a Coral X-Coral-Signature header ("sha256=HEX[,sha256=HEX...]") against
 * HMAC-SHA256(secret, body) for each secret, comparing in constant time (CRYPTO_memcmp).
 * Returns 1 when one signature matches one secret, 0 otherwise (missing or malformed too). */
int compat_coral_verify(const char *header, const char *body, size_t len,
                        char *const *secrets, size_t n_secrets);

/* Turns HTML into text: tags dropped (block tags and <br> become a newline), the common entities
 * decoded. map (may be NULL) gets, for each output byte, the byte offset in the input it came
 * from, plus one entry for the end. Returns the text (malloc'd, NUL-terminated) or NULL. */
char *compat_html_text(const char *html, size_t len, size_t *out_len, size_t **map);

/* The UTF-16 code-unit offset (JavaScript string index) of code point cp in UTF-8 text s. */
size_t compat_utf16_offset(const char *s, size_t len, size_t cp);
/* The byte offset of code point cp in UTF-8 text s (len when past the end). */
size_t compat_byte_offset(const char *s, size_t len, size_t cp);

/* ---- storing a verdict and answering in a protocol's shape (api_compat.c) ---- */

/*
 * The verdict steps of POST /v1/comments for a protocol's comment: the engine on in (counted in
 * the metrics), the sanction of rec's author (author_id / author_email), then a new id in id and
 * rec's id, reason and verdict half, with the matches (text included) in *matches (caller
 * frees). res is the caller's to free, whatever the outcome. Returns 0, or -1 with err.
 */
int compat_verdict(api_ctx *ctx, const mod_ruleset *rs, const mod_input *in, comment_record *rec,
                   mod_result *res, char id[33], char **matches, mod_error *err);

/* Fills rep with the protocol's error for a failed commit. */
typedef void (*compat_fail_fn)(api_reply *rep, const mod_error *err);

/*
 * Queues rec for commit and suspends the request; the reply is `prepared` (moved in: its body and
 * headers now belong to the call) once the commit is done, fail's reply if it failed, or, when
 * budget_ms passes first, `prepared` with "X-Moderatord-Stored: pending" (the commit still
 * happens; a later failure is logged). integration names the protocol in metrics and logs.
 * Returns API_PENDING, or API_DONE with rep filled by fail when out of memory.
 */
api_status compat_store_and_reply(api_ctx *ctx, api_request *req, api_reply *rep,
                                  const comment_record *rec, api_reply *prepared,
                                  compat_fail_fn fail, unsigned budget_ms, const char *integration);

/* The configured budgets (0 before compat_start). */
unsigned compat_coral_budget_ms(void);
unsigned compat_perspective_budget_ms(void);
/* 1 when a Coral signing secret is configured; then compat_coral_verify with these. */
int compat_coral_secrets(char *const **secrets, size_t *n);

/* The names of res's rules for X-Moderatord-Rules: comma-separated, each once, "" for none, and
 * cut before the first name that does not fit in out. */
void compat_rule_names(const mod_result *res, char *out, size_t len);

/* Hex SHA-256 of data into out (65 bytes). */
void compat_sha256_hex(const void *data, size_t len, char out[65]);

#endif
