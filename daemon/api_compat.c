/* api_compat.c - what the drop-in protocols share: their configuration, storing a verdict and
 * answering once it is committed or its time budget runs out (one timer thread for the budgets),
 * form decoding, the key in a Host name, Coral's HMAC signature check, HTML to text, offsets. */
#include "api_compat.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <utf8proc.h>

#include "api_internal.h"
#include "log.h"
#include "metrics.h"
#include "normalize.h"
#include "store.h"

/* ---- configuration ---- */

static compat_config compat_cfg;
static int compat_started;

int compat_load_coral_secrets(compat_config *cfg, const char *path, mod_error *err)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return err_set(err, ERR_BAD_REQUEST, "%s: %s", path, strerror(errno));
    char line[1024];
    int lineno = 0, rc = 0;
    while (fgets(line, sizeof line, f)) {
        lineno++;
        size_t n = strlen(line);
        if (n == sizeof line - 1 && line[n - 1] != '\n') {
            rc = err_set(err, ERR_BAD_REQUEST, "%s:%d: line too long", path, lineno);
            break;
        }
        while (n && (line[n - 1] == '\n' || line[n - 1] == '\r' || line[n - 1] == ' ' ||
                     line[n - 1] == '\t'))
            line[--n] = '\0';
        char *s = line;
        while (*s == ' ' || *s == '\t')
            s++;
        if (!*s || *s == '#')
            continue;
        if (cfg->n_coral_secrets >= COMPAT_MAX_CORAL_SECRETS) {
            rc = err_set(err, ERR_BAD_REQUEST, "%s:%d: more than %d secrets", path, lineno,
                         COMPAT_MAX_CORAL_SECRETS);
            break;
        }
        if (!(cfg->coral_secrets[cfg->n_coral_secrets] = strdup(s))) {
            rc = err_set(err, ERR_INTERNAL, "out of memory");
            break;
        }
        cfg->n_coral_secrets++;
    }
    explicit_bzero(line, sizeof line);
    if (rc == 0 && ferror(f))
        rc = err_set(err, ERR_BAD_REQUEST, "%s: read error", path);
    if (rc == 0 && cfg->n_coral_secrets == 0)
        rc = err_set(err, ERR_BAD_REQUEST, "%s: no secret in the file", path);
    fclose(f);
    return rc;
}

void compat_config_free(compat_config *cfg)
{
    for (size_t i = 0; i < cfg->n_coral_secrets; i++) {
        explicit_bzero(cfg->coral_secrets[i], strlen(cfg->coral_secrets[i]));
        free(cfg->coral_secrets[i]);
    }
    memset(cfg, 0, sizeof *cfg);
}

unsigned compat_coral_budget_ms(void)
{
    return compat_started ? compat_cfg.coral_budget_ms : 0;
}

unsigned compat_perspective_budget_ms(void)
{
    return compat_started ? compat_cfg.perspective_budget_ms : 0;
}

int compat_coral_secrets(char *const **secrets, size_t *n)
{
    if (!compat_started || compat_cfg.n_coral_secrets == 0)
        return 0;
    *secrets = compat_cfg.coral_secrets;
    *n = compat_cfg.n_coral_secrets;
    return 1;
}

/* ---- pending verdicts and the budget timer ---- */

typedef enum { CP_WAITING = 0, CP_COMMITTED, CP_FAILED } compat_outcome;

typedef struct compat_pending {
    atomic_int refs;          /* the request, the writer's callback, the timer */
    pthread_mutex_t lock;     /* guards everything below */
    int resumed;              /* resume called (by the writer or the timer): req no longer ours */
    compat_outcome outcome;
    mod_error err;
    api_request *req;
    api_reply prepared;
    compat_fail_fn fail;
    const char *integration;
    char id[33];
    /* timer list (guarded by compat_timer_lock) */
    struct timespec deadline;
    struct compat_pending *tnext;
    int in_timer;
} compat_pending;

static pthread_mutex_t compat_timer_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t compat_timer_cond;
static compat_pending *compat_timer_head; /* sorted by deadline */
static pthread_t compat_timer_thread;
static int compat_timer_running, compat_timer_stop;

static void compat_pending_unref(void *arg)
{
    compat_pending *p = arg;
    if (atomic_fetch_sub(&p->refs, 1) != 1)
        return;
    api_reply_free(&p->prepared);
    pthread_mutex_destroy(&p->lock);
    free(p);
}

/* Resumes the request once, whoever comes first: the writer or the timer. */
static void compat_pending_wake(compat_pending *p, compat_outcome outcome, const mod_error *err)
{
    pthread_mutex_lock(&p->lock);
    if (outcome != CP_WAITING) {
        p->outcome = outcome;
        if (err)
            p->err = *err;
    }
    int wake = !p->resumed;
    p->resumed = 1;
    api_request *req = wake ? p->req : NULL;
    pthread_mutex_unlock(&p->lock);
    /* The request cannot complete before this resume, so req is still valid here; after it we
     * never touch req again. */
    if (req)
        req->resume(req->conn);
}

static int compat_ts_before(const struct timespec *a, const struct timespec *b)
{
    return a->tv_sec < b->tv_sec || (a->tv_sec == b->tv_sec && a->tv_nsec < b->tv_nsec);
}

/* Adds p to the timer (taking a reference). 0, or -1 when the timer is not running. */
static int compat_timer_add(compat_pending *p, unsigned ms)
{
    clock_gettime(CLOCK_MONOTONIC, &p->deadline);
    p->deadline.tv_sec += ms / 1000;
    p->deadline.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (p->deadline.tv_nsec >= 1000000000L) {
        p->deadline.tv_sec++;
        p->deadline.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&compat_timer_lock);
    if (!compat_timer_running || compat_timer_stop) {
        pthread_mutex_unlock(&compat_timer_lock);
        return -1;
    }
    atomic_fetch_add(&p->refs, 1);
    compat_pending **pp = &compat_timer_head;
    while (*pp && !compat_ts_before(&p->deadline, &(*pp)->deadline))
        pp = &(*pp)->tnext;
    p->tnext = *pp;
    *pp = p;
    p->in_timer = 1;
    pthread_cond_signal(&compat_timer_cond);
    pthread_mutex_unlock(&compat_timer_lock);
    return 0;
}

/* Takes p off the timer if it is still there, dropping the timer's reference. */
static void compat_timer_cancel(compat_pending *p)
{
    int removed = 0;
    pthread_mutex_lock(&compat_timer_lock);
    if (p->in_timer) {
        for (compat_pending **pp = &compat_timer_head; *pp; pp = &(*pp)->tnext)
            if (*pp == p) {
                *pp = p->tnext;
                break;
            }
        p->in_timer = 0;
        removed = 1;
    }
    pthread_mutex_unlock(&compat_timer_lock);
    if (removed)
        compat_pending_unref(p);
}

static void *compat_timer_main(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&compat_timer_lock);
    for (;;) {
        if (compat_timer_stop && !compat_timer_head)
            break;
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        compat_pending *p = compat_timer_head;
        if (p && (compat_timer_stop || !compat_ts_before(&now, &p->deadline))) {
            compat_timer_head = p->tnext;
            p->in_timer = 0;
            pthread_mutex_unlock(&compat_timer_lock);
            compat_pending_wake(p, CP_WAITING, NULL);
            compat_pending_unref(p);
            pthread_mutex_lock(&compat_timer_lock);
            continue;
        }
        if (p)
            pthread_cond_timedwait(&compat_timer_cond, &compat_timer_lock, &p->deadline);
        else
            pthread_cond_wait(&compat_timer_cond, &compat_timer_lock);
    }
    pthread_mutex_unlock(&compat_timer_lock);
    return NULL;
}

int compat_start(const compat_config *cfg, mod_error *err)
{
    compat_cfg = *cfg; /* the secrets' strings stay the caller's until compat_stop */
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC); /* deadlines are monotonic */
    pthread_cond_init(&compat_timer_cond, &ca);
    pthread_condattr_destroy(&ca);
    compat_timer_stop = 0;
    if (pthread_create(&compat_timer_thread, NULL, compat_timer_main, NULL) != 0) {
        pthread_cond_destroy(&compat_timer_cond);
        return err_set(err, ERR_INTERNAL, "cannot start the time-budget thread");
    }
    compat_timer_running = 1;
    compat_started = 1;
    return 0;
}

void compat_stop(void)
{
    if (!compat_timer_running)
        return;
    pthread_mutex_lock(&compat_timer_lock);
    compat_timer_stop = 1; /* whatever is still waiting is woken at once */
    pthread_cond_signal(&compat_timer_cond);
    pthread_mutex_unlock(&compat_timer_lock);
    pthread_join(compat_timer_thread, NULL);
    compat_timer_running = 0;
    compat_started = 0;
    pthread_cond_destroy(&compat_timer_cond);
    memset(&compat_cfg, 0, sizeof compat_cfg);
}

/* The writer's callback, once the record is committed or failed. */
static void compat_stored(void *arg, int rc, const comment_record *stored, int existed,
                          const mod_error *err)
{
    (void)stored;
    (void)existed;
    compat_pending *p = arg;
    int late = 0;
    pthread_mutex_lock(&p->lock);
    late = p->resumed; /* answered already, under the budget */
    pthread_mutex_unlock(&p->lock);
    if (rc != 0)
        log_at(LOGL_ERROR, "%s: verdict %s not committed%s: %s", p->integration, p->id,
                late ? " (the client was answered under its time budget)" : "",
                err ? err->message : "unknown error");
    compat_pending_wake(p, rc == 0 ? CP_COMMITTED : CP_FAILED, err);
    compat_timer_cancel(p);
    compat_pending_unref(p);
}

/* Runs on the request's thread after the resume: the reply the outcome calls for. */
static void compat_resumed(api_request *req, api_reply *rep)
{
    compat_pending *p = req->state;
    pthread_mutex_lock(&p->lock);
    if (p->outcome == CP_FAILED) {
        p->fail(rep, &p->err);
    } else {
        api_reply_free(rep);
        *rep = p->prepared;
        memset(&p->prepared, 0, sizeof p->prepared);
        if (p->outcome == CP_WAITING) {
            api_reply_header(rep, "X-Moderatord-Stored", "pending");
            metrics_compat_event(p->integration, "budget_exceeded");
            log_msg("%s: verdict %s answered before its commit (time budget spent)",
                    p->integration, p->id);
        }
    }
    pthread_mutex_unlock(&p->lock);
}

int compat_verdict(api_ctx *ctx, const mod_ruleset *rs, const mod_input *in, comment_record *rec,
                   mod_result *res, char id[33], char **matches, mod_error *err)
{
    if (engine_check(rs, in, res, err) != 0)
        return -1;
    metrics_verdict(res->verdict, res->categories);
    /* The site's sanctions hold here too: a banned author's comment is blocked. */
    const char *reason = NULL;
    json_t *sanction = NULL;
    int rc = api_sanction_apply(ctx, rs, rec->author_id, rec->author_email, &res->verdict,
                                &reason, &sanction, err);
    json_decref(sanction);
    if (rc != 0)
        return -1;
    if (api_new_id(id) != 0 || !(*matches = api_matches_json(res, 1)))
        return err_set(err, ERR_INTERNAL, "cannot make a comment id");
    rec->id = id;
    rec->reason = (char *)reason;
    api_record_verdict(rec, res, rs, *matches);
    return 0;
}

api_status compat_store_and_reply(api_ctx *ctx, api_request *req, api_reply *rep,
                                  const comment_record *rec, api_reply *prepared,
                                  compat_fail_fn fail, unsigned budget_ms, const char *integration)
{
    compat_pending *p = calloc(1, sizeof *p);
    if (!p) {
        mod_error e;
        err_set(&e, ERR_INTERNAL, "out of memory");
        api_reply_free(prepared);
        fail(rep, &e);
        return API_DONE;
    }
    atomic_init(&p->refs, 1); /* the request's */
    pthread_mutex_init(&p->lock, NULL);
    p->req = req;
    p->prepared = *prepared;
    memset(prepared, 0, sizeof *prepared);
    p->fail = fail;
    p->integration = integration;
    snprintf(p->id, sizeof p->id, "%s", rec->id ? rec->id : "");
    req->state = p;
    req->state_resumed = compat_resumed;
    req->state_free = compat_pending_unref;

    atomic_fetch_add(&p->refs, 1); /* the writer's callback */
    req->suspend(req->conn);
    if (budget_ms > 0)
        compat_timer_add(p, budget_ms); /* no timer running: waits for the commit */
    if (store_submit_comment(api_store(ctx), rec, compat_stored, p) != 0) {
        mod_error e;
        err_set(&e, ERR_STORE, "the store is not accepting writes (shutting down?)");
        compat_pending_wake(p, CP_FAILED, &e);
        compat_timer_cancel(p);
        compat_pending_unref(p);
    }
    return API_PENDING;
}

/* ---- small shared things ---- */

void compat_rule_names(const mod_result *res, char *out, size_t len)
{
    size_t used = 0;
    out[0] = '\0';
    for (size_t i = 0; res && i < res->n_matches; i++) {
        const char *r = res->matches[i].rule;
        /* a rule that fired twice is named once; compare whole names ("fuck" is not "fuck_you") */
        size_t k = 0;
        while (k < i && strcmp(res->matches[k].rule, r) != 0)
            k++;
        if (k < i)
            continue;
        int w = snprintf(out + used, len - used, "%s%s", used ? "," : "", r);
        if (w < 0 || (size_t)w >= len - used) {
            out[used] = '\0';
            return;
        }
        used += (size_t)w;
    }
}

void compat_sha256_hex(const void *data, size_t len, char out[65])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    static const char hex[] = "0123456789abcdef";
    if (!EVP_Digest(data, len, md, &n, EVP_sha256(), NULL) || n != 32) {
        out[0] = '\0';
        return;
    }
    for (unsigned i = 0; i < n; i++) {
        out[2 * i] = hex[md[i] >> 4];
        out[2 * i + 1] = hex[md[i] & 15];
    }
    out[64] = '\0';
}

/* ---- forms ---- */

static int compat_hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Decodes [s, s+n) into a new NUL-terminated string; -1 on a bad escape. */
static int compat_urldecode(const char *s, size_t n, char **out, size_t *out_len)
{
    char *d = malloc(n + 1);
    if (!d)
        return -1;
    size_t j = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '+') {
            d[j++] = ' ';
        } else if (s[i] == '%') {
            int hi = i + 2 < n ? compat_hexval((unsigned char)s[i + 1]) : -1;
            int lo = i + 2 < n ? compat_hexval((unsigned char)s[i + 2]) : -1;
            if (hi < 0 || lo < 0) {
                free(d);
                return -1;
            }
            d[j++] = (char)(hi * 16 + lo);
            i += 2;
        } else {
            d[j++] = s[i];
        }
    }
    d[j] = '\0';
    *out = d;
    *out_len = j;
    return 0;
}

int compat_form_parse(const char *body, size_t len, compat_field **out)
{
    *out = NULL;
    int n = 0, cap = 0;
    compat_field *f = NULL;
    size_t i = 0;
    while (i < len) {
        size_t end = i;
        while (end < len && body[end] != '&')
            end++;
        if (end > i) {
            size_t eq = i;
            while (eq < end && body[eq] != '=')
                eq++;
            if (n == cap) {
                int ncap = cap ? cap * 2 : 16;
                compat_field *p = realloc(f, (size_t)ncap * sizeof *p);
                if (!p)
                    goto fail;
                f = p;
                cap = ncap;
            }
            size_t nl;
            memset(&f[n], 0, sizeof f[n]);
            if (compat_urldecode(body + i, eq - i, &f[n].name, &nl) != 0)
                goto fail;
            const char *v = eq < end ? body + eq + 1 : body + end;
            if (compat_urldecode(v, (size_t)(body + end - v), &f[n].value, &f[n].value_len) != 0) {
                free(f[n].name);
                goto fail;
            }
            n++;
        }
        i = end + 1;
    }
    *out = f;
    return n;
fail:
    compat_form_free(f, n);
    return -1;
}

void compat_form_free(compat_field *f, int n)
{
    for (int i = 0; f && i < n; i++) {
        free(f[i].name);
        free(f[i].value);
    }
    free(f);
}

const char *compat_form_get(const compat_field *f, int n, const char *name)
{
    for (int i = 0; i < n; i++)
        if (strcmp(f[i].name, name) == 0)
            return f[i].value;
    return NULL;
}

/* ---- keys in host names ---- */

int compat_host_key(const char *host, char *out, size_t out_len)
{
    if (!host)
        return -1;
    const char *dot = strchr(host, '.');
    if (!dot || dot == host || (size_t)(dot - host) >= out_len)
        return -1;
    if (strncasecmp(host, "mk_", 3) != 0)
        return -1;
    for (const char *c = host; c < dot; c++)
        if (!((*c >= '0' && *c <= '9') || (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
              *c == '_'))
            return -1;
    size_t n = (size_t)(dot - host);
    for (size_t i = 0; i < n; i++) /* DNS names are case-insensitive; our keys are lower case */
        out[i] = (host[i] >= 'A' && host[i] <= 'Z') ? (char)(host[i] - 'A' + 'a') : host[i];
    out[n] = '\0';
    return 0;
}

/* ---- Coral's signature ---- */

int compat_coral_verify(const char *header, const char *body, size_t len,
                        char *const *secrets, size_t n_secrets)
{
    if (!header || n_secrets == 0)
        return 0;
    unsigned char want[COMPAT_MAX_CORAL_SECRETS][32];
    size_t n_want = 0;
    for (size_t i = 0; i < n_secrets && i < COMPAT_MAX_CORAL_SECRETS; i++) {
        unsigned int mdlen = 0;
        if (!HMAC(EVP_sha256(), secrets[i], (int)strlen(secrets[i]),
                  (const unsigned char *)(body ? body : ""), len, want[n_want], &mdlen) ||
            mdlen != 32)
            continue;
        n_want++;
    }
    int ok = 0;
    /* "sha256=HEX,sha256=HEX": one per active secret on Coral's side. */
    const char *p = header;
    while (*p) {
        while (*p == ' ' || *p == ',')
            p++;
        const char *end = strchr(p, ',');
        if (!end)
            end = p + strlen(p);
        const char *q = end;
        while (q > p && q[-1] == ' ')
            q--;
        if (q - p == 7 + 64 && strncasecmp(p, "sha256=", 7) == 0) {
            unsigned char got[32];
            int good = 1;
            for (int i = 0; i < 32; i++) {
                int hi = compat_hexval((unsigned char)p[7 + 2 * i]);
                int lo = compat_hexval((unsigned char)p[8 + 2 * i]);
                if (hi < 0 || lo < 0)
                    good = 0;
                got[i] = (unsigned char)((hi < 0 ? 0 : hi) * 16 + (lo < 0 ? 0 : lo));
            }
            /* Every candidate is compared in full, so the time taken says nothing about which
             * byte differed or which secret matched. */
            for (size_t w = 0; w < n_want; w++)
                ok |= good & (CRYPTO_memcmp(got, want[w], 32) == 0);
        }
        p = end;
    }
    OPENSSL_cleanse(want, sizeof want);
    return ok;
}

/* ---- HTML to text ---- */

static int compat_is_block_tag(const char *name, size_t n)
{
    static const char *const tags[] = {"p", "br", "div", "li", "ul", "ol", "blockquote", "h1",
                                       "h2", "h3", "h4", "h5", "h6", "tr", "pre"};
    for (size_t i = 0; i < sizeof tags / sizeof tags[0]; i++)
        if (strlen(tags[i]) == n && strncasecmp(name, tags[i], n) == 0)
            return 1;
    return 0;
}

char *compat_html_text(const char *html, size_t len, size_t *out_len, size_t **map)
{
    /* An entity never grows (the longest decoded form is 4 bytes for "&#xNNNNN;"), a tag becomes
     * at most one byte: the output is never longer than the input. */
    char *d = malloc(len + 1);
    size_t *m = map ? malloc((len + 1) * sizeof *m) : NULL;
    if (!d || (map && !m)) {
        free(d);
        free(m);
        return NULL;
    }
    size_t j = 0;
    for (size_t i = 0; i < len;) {
        if (html[i] == '<') {
            size_t e = i + 1;
            while (e < len && html[e] != '>')
                e++;
            size_t ns = i + 1 + (i + 1 < len && html[i + 1] == '/');
            size_t ne = ns;
            while (ne < e && ((html[ne] >= 'a' && html[ne] <= 'z') ||
                              (html[ne] >= 'A' && html[ne] <= 'Z') ||
                              (html[ne] >= '0' && html[ne] <= '9')))
                ne++;
            if (compat_is_block_tag(html + ns, ne - ns) && j > 0 && d[j - 1] != '\n') {
                if (m)
                    m[j] = i;
                d[j++] = '\n';
            }
            i = e < len ? e + 1 : len;
            continue;
        }
        int32_t cp;
        size_t ent_len = html[i] == '&' ? html_entity(html + i, len - i, &cp) : 0;
        if (ent_len) {
            size_t k = (size_t)utf8proc_encode_char(cp, (utf8proc_uint8_t *)d + j);
            for (size_t b = 0; m && b < k; b++)
                m[j + b] = i;
            j += k;
            i += ent_len;
            continue;
        }
        if (m)
            m[j] = i;
        d[j++] = html[i++];
    }
    while (j > 0 && d[j - 1] == '\n')
        j--;
    d[j] = '\0';
    if (m)
        m[j] = len;
    if (out_len)
        *out_len = j;
    if (map)
        *map = m;
    return d;
}

/* ---- offsets ---- */

size_t compat_byte_offset(const char *s, size_t len, size_t cp)
{
    size_t i = 0, n = 0;
    while (i < len && n < cp) {
        i++;
        while (i < len && ((unsigned char)s[i] & 0xC0) == 0x80)
            i++;
        n++;
    }
    return i;
}

size_t compat_utf16_offset(const char *s, size_t len, size_t cp)
{
    size_t i = 0, n = 0, units = 0;
    while (i < len && n < cp) {
        unsigned char c = (unsigned char)s[i];
        units += c >= 0xF0 ? 2 : 1; /* a code point past U+FFFF is a surrogate pair */
        i++;
        while (i < len && ((unsigned char)s[i] & 0xC0) == 0x80)
            i++;
        n++;
    }
    return units;
}
