/* api_admin.c - the admin routes: the live rule set and its reload history (GET /v1/rules),
 * reloads on demand (POST /v1/rules/reload, answered from the reload thread), dry runs against the
 * live or any kept version (POST /v1/check), and explanations of stored verdicts with the rule
 * lines as written in the version that made them (?explain=1). Also rule-set versions <-> JSON. */
#include "api_admin.h"

#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api_internal.h"
#include "engine.h"
#include "lint.h"
#include "log.h"

#define ADMIN_CACHE 4          /* kept versions rebuilt and held for dry runs and explanations */
#define ADMIN_VERSIONS_SHOWN 50

static reloader *admin_reloader;
static pthread_mutex_t admin_lock = PTHREAD_MUTEX_INITIALIZER;
static struct {
    char version[17];
    mod_ruleset *rs;
    unsigned long used;
} admin_cache[ADMIN_CACHE];
static unsigned long admin_tick;

void api_admin_init(reloader *r)
{
    admin_reloader = r;
}

void api_admin_shutdown(void)
{
    pthread_mutex_lock(&admin_lock);
    for (size_t i = 0; i < ADMIN_CACHE; i++) {
        if (admin_cache[i].rs)
            ruleset_unref(admin_cache[i].rs);
        memset(&admin_cache[i], 0, sizeof admin_cache[i]);
    }
    admin_reloader = NULL;
    pthread_mutex_unlock(&admin_lock);
}

/* ---- versions as JSON ---- */

char *api_ruleset_files_json(const mod_ruleset *rs, mod_error *err)
{
    size_t n;
    const rule_file *f = ruleset_files(rs, &n);
    json_t *arr = json_array();
    for (size_t i = 0; arr && i < n; i++) {
        if (!utf8_valid(f[i].content, f[i].len)) {
            json_decref(arr);
            err_set(err, ERR_RULES, "%s: not valid UTF-8, so it cannot be kept", f[i].name);
            return NULL;
        }
        json_t *o = json_pack("{s:s,s:s%}", "name", f[i].name, "content", f[i].content, f[i].len);
        if (!o || json_array_append_new(arr, o) != 0) {
            json_decref(arr);
            arr = NULL;
        }
    }
    char *s = arr ? json_dumps(arr, JSON_COMPACT) : NULL;
    json_decref(arr);
    if (!s)
        err_set(err, ERR_INTERNAL, "out of memory");
    return s;
}

/* The rule set built from kept files (api_ruleset_files_json's format). */
static int admin_ruleset_from_json(const char *files_json, mod_ruleset **out, rule_diags *diags,
                                   mod_error *err)
{
    json_error_t je;
    json_t *arr = json_loads(files_json ? files_json : "", JSON_ALLOW_NUL, &je);
    if (!json_is_array(arr)) {
        json_decref(arr);
        return err_set(err, ERR_STORE, "kept rule files are not a JSON array: %s", je.text);
    }
    size_t n = json_array_size(arr);
    rule_file *files = calloc(n + 1, sizeof *files);
    int bad = !files;
    for (size_t i = 0; !bad && i < n; i++) {
        json_t *o = json_array_get(arr, i);
        json_t *name = json_object_get(o, "name"), *content = json_object_get(o, "content");
        if (!json_is_string(name) || !json_is_string(content)) {
            bad = 1;
            break;
        }
        files[i] = (rule_file){.name = (char *)json_string_value(name),
                               .content = (char *)json_string_value(content),
                               .len = json_string_length(content)};
    }
    int rc = bad ? err_set(err, ERR_STORE, "kept rule files are malformed")
                 : ruleset_build(files, n, out, diags, err);
    free(files);
    json_decref(arr);
    return rc;
}

/* api_admin_version, with the version's kept files (JSON) when the caller has read them already:
 * NULL reads them from the store if the version has to be built. */
static mod_ruleset *admin_version(api_ctx *ctx, store *st, const char *version, const char *files,
                                  int *live, mod_error *err)
{
    if (live)
        *live = 0;
    int want_live = !version || !*version || !strcmp(version, "live");
    mod_ruleset *cur = ctx ? api_ruleset_acquire(ctx) : NULL;
    if (want_live || (cur && !strcmp(version, ruleset_version(cur)))) {
        if (!cur)
            err_set(err, ERR_RULES, "no live rule set here");
        else if (live)
            *live = 1;
        return cur;
    }
    if (cur)
        ruleset_unref(cur);
    if (!ruleset_version_valid(version)) {
        err_set(err, ERR_BAD_FIELD, "\"version\" must be \"live\" or a version (16 hex digits)");
        return NULL;
    }
    pthread_mutex_lock(&admin_lock);
    for (size_t i = 0; i < ADMIN_CACHE; i++)
        if (admin_cache[i].rs && !strcmp(admin_cache[i].version, version)) {
            admin_cache[i].used = ++admin_tick;
            mod_ruleset *rs = ruleset_ref(admin_cache[i].rs);
            pthread_mutex_unlock(&admin_lock);
            return rs;
        }
    pthread_mutex_unlock(&admin_lock);

    char *read = NULL;
    if (!files) {
        if (!st || store_ruleset_get(st, version, &read, NULL, err) != 0) {
            if (!st)
                err_set(err, ERR_NOT_FOUND, "no store to find version %s in", version);
            return NULL;
        }
        files = read;
    }
    mod_ruleset *rs = NULL;
    rule_diags diags = {0};
    int rc = admin_ruleset_from_json(files, &rs, &diags, err);
    diags_free(&diags);
    free(read);
    if (rc != 0)
        return NULL;
    if (strcmp(ruleset_version(rs), version) != 0) {
        /* The version is the hash of the files: files that hash otherwise were changed. */
        err_set(err, ERR_STORE,
                "the kept files of version %s hash to %s: the rulesets table was altered",
                version, ruleset_version(rs));
        ruleset_unref(rs);
        return NULL;
    }
    mod_ruleset *evicted = NULL;
    pthread_mutex_lock(&admin_lock);
    size_t slot = 0;
    for (size_t i = 0; i < ADMIN_CACHE; i++) {
        if (admin_cache[i].rs && !strcmp(admin_cache[i].version, version)) {
            slot = i; /* built meanwhile by another request: keep one */
            break;
        }
        if (!admin_cache[i].rs || admin_cache[i].used < admin_cache[slot].used)
            slot = i;
        if (!admin_cache[i].rs)
            break;
    }
    evicted = admin_cache[slot].rs;
    admin_cache[slot].rs = ruleset_ref(rs);
    snprintf(admin_cache[slot].version, sizeof admin_cache[slot].version, "%s", version);
    admin_cache[slot].used = ++admin_tick;
    pthread_mutex_unlock(&admin_lock);
    if (evicted)
        ruleset_unref(evicted);
    return rs;
}

mod_ruleset *api_admin_version(api_ctx *ctx, store *st, const char *version, int *live,
                               mod_error *err)
{
    return admin_version(ctx, st, version, NULL, live, err);
}

/* ---- explanations ---- */

/* Line lineno of a kept file, with its continuation lines (set definitions go on over lines that
 * start with a space) when more is set. NULL when there is no such line. */
static json_t *admin_file_lines(json_t *files, const char *name, int lineno, int more)
{
    const char *content = NULL;
    size_t len = 0;
    for (size_t i = 0; name && i < json_array_size(files); i++) {
        json_t *o = json_array_get(files, i);
        if (json_is_string(json_object_get(o, "name")) &&
            !strcmp(json_string_value(json_object_get(o, "name")), name)) {
            content = json_string_value(json_object_get(o, "content"));
            len = json_string_length(json_object_get(o, "content"));
        }
    }
    if (!content || lineno < 1)
        return NULL;
    const char *p = content, *end = content + len;
    for (int l = 1; l < lineno; l++) {
        const char *nl = p < end ? memchr(p, '\n', (size_t)(end - p)) : NULL;
        if (!nl)
            return NULL;
        p = nl + 1;
    }
    const char *q = p;
    do {
        const char *nl = memchr(q, '\n', (size_t)(end - q));
        q = nl ? nl + 1 : end;
    } while (more && q < end && (*q == ' ' || *q == '\t') && q[strspn(q, " \t")] != '\n' &&
             q[strspn(q, " \t")] != '#');
    size_t n = (size_t)(q - p);
    while (n && (p[n - 1] == '\n' || p[n - 1] == '\r'))
        n--;
    return json_stringn(p, n);
}

/* Does one comma-separated term of a set line read word (a reading, lower case)? */
static int admin_term_reads(const char *term, size_t n, const char *word)
{
    while (n && (*term == ' ' || *term == '\t'))
        term++, n--;
    while (n && (term[n - 1] == ' ' || term[n - 1] == '\t' || term[n - 1] == '\r'))
        n--;
    size_t wl = strlen(word);
    if (n > 2 && term[0] == '*' && term[n - 1] == '*') {
        for (size_t i = 0; i + (n - 2) <= wl; i++)
            if (!strncasecmp(word + i, term + 1, n - 2))
                return 1;
        return 0;
    }
    if (n > 1 && term[n - 1] == '*')
        return wl >= n - 1 && !strncasecmp(word, term, n - 1);
    if (n > 1 && term[0] == '=')
        term++, n--;
    return n == wl && !strncasecmp(term, word, n);
}

/* Of a set's definition (its line and continuation lines), the one line holding a term that
 * reads one of words; 0 when none does. */
static int admin_set_line(json_t *files, const char *file, int line, const char *const *words,
                          size_t n_words)
{
    json_t *def = admin_file_lines(files, file, line, 1);
    const char *text = json_string_value(def);
    int found = 0;
    for (int l = line; text && *text && !found; l++) {
        const char *end = strchr(text, '\n');
        size_t len = end ? (size_t)(end - text) : strlen(text);
        const char *p = text, *stop = text + len;
        const char *eq = memchr(p, '=', len);
        if (l == line && eq)
            p = eq + 1;
        const char *hash = memchr(p, '#', (size_t)(stop - p));
        if (hash)
            stop = hash;
        while (p < stop && !found) {
            const char *comma = memchr(p, ',', (size_t)(stop - p));
            const char *te = comma ? comma : stop;
            for (size_t w = 0; w < n_words && !found; w++)
                if (words[w] && admin_term_reads(p, (size_t)(te - p), words[w]))
                    found = l;
            p = comma ? comma + 1 : stop;
        }
        text = end ? end + 1 : "";
    }
    json_decref(def);
    return found;
}

static int admin_same_matches(json_t *stored, const mod_result *res)
{
    if (json_array_size(stored) != res->n_matches)
        return 0;
    for (size_t i = 0; i < res->n_matches; i++) {
        json_t *m = json_array_get(stored, i);
        const char *rule = json_string_value(json_object_get(m, "rule"));
        if (!rule || strcmp(rule, res->matches[i].rule) != 0 ||
            json_integer_value(json_object_get(m, "start")) != (json_int_t)res->matches[i].start ||
            json_integer_value(json_object_get(m, "end")) != (json_int_t)res->matches[i].end)
            return 0;
    }
    return 1;
}

/* The "explain" object of a stored comment. */
static json_t *admin_explain(api_ctx *ctx, store *st, const comment_record *rec)
{
    json_t *ex = json_object();
    json_t *stored = api_record_matches(rec);
    char *files_json = NULL, *loaded_at = NULL;
    mod_error err = {0};
    int kept = rec->ruleset && st &&
               store_ruleset_get(st, rec->ruleset, &files_json, &loaded_at, &err) == 0;
    json_t *files = kept ? json_loads(files_json, JSON_ALLOW_NUL, NULL) : NULL;
    int live = 0;
    mod_error verr = {0};
    /* The files just read build the version if it is not at hand: no second read. */
    mod_ruleset *rs = rec->ruleset ? admin_version(ctx, st, rec->ruleset, kept ? files_json : NULL,
                                                   &live, &verr)
                                   : NULL;
    free(files_json);
    json_object_set_new(ex, "ruleset",
                        json_pack("{s:o,s:b,s:o,s:b}", "version", api_str(rec->ruleset), "kept",
                                  kept, "loaded_at", api_str(loaded_at), "live", live));
    free(loaded_at);
    if (!kept)
        json_object_set_new(ex, "note",
                            json_string("the files of this version were not kept (it was loaded "
                                        "before versions were kept): rule lines cannot be shown"));

    json_t *out = json_array();
    for (size_t i = 0; i < json_array_size(stored); i++) {
        json_t *m = json_deep_copy(json_array_get(stored, i));
        const char *file = json_string_value(json_object_get(m, "file"));
        int line = (int)json_integer_value(json_object_get(m, "line"));
        json_t *src = files ? admin_file_lines(files, file, line, 0) : NULL;
        json_object_set_new(m, "source", src ? src : json_null());
        json_t *sets = json_array();
        rule_info info;
        const char *rule = json_string_value(json_object_get(m, "rule"));
        /* For each set the rule names: the line of its definition holding the term that fired
         * (the match's reading, or the word that aimed it), else the whole definition. */
        const char *words[2] = {json_string_value(json_object_get(m, "matched")),
                                json_string_value(json_object_get(json_object_get(m, "context"),
                                                                  "text"))};
        char ctx_lower[128] = "";
        if (words[1]) {
            snprintf(ctx_lower, sizeof ctx_lower, "%s", words[1]);
            for (char *p = ctx_lower; *p; p++)
                if (*p >= 'A' && *p <= 'Z')
                    *p = (char)(*p + 32);
            words[1] = ctx_lower;
        }
        if (rs && rule && ruleset_rule_info(rs, rule, &info) == 0)
            for (size_t k = 0; k < info.n_sets; k++) {
                int at = files && !info.sets[k].unless
                             ? admin_set_line(files, info.sets[k].file, info.sets[k].line, words, 2)
                             : 0;
                json_t *ssrc = !files ? NULL
                               : at   ? admin_file_lines(files, info.sets[k].file, at, 0)
                                      : admin_file_lines(files, info.sets[k].file,
                                                         info.sets[k].line, 1);
                json_array_append_new(
                    sets, json_pack("{s:s,s:s,s:i,s:i,s:o,s:b}", "name", info.sets[k].name,
                                    "file", info.sets[k].file, "line", at ? at : info.sets[k].line,
                                    "defined_at", info.sets[k].line, "source",
                                    ssrc ? ssrc : json_null(), "unless", info.sets[k].unless));
            }
        json_object_set_new(m, "sets", sets);
        json_array_append_new(out, m);
    }
    json_object_set_new(ex, "matches", out);

    /* The verdict again, with the version that made it. The participants a request named are
     * not kept, but every one that counted is the context of a stored match. */
    if (!rs) {
        json_object_set_new(ex, "recheck", json_pack("{s:s}", "error", verr.message));
    } else if (!rec->text || !*rec->text) {
        json_object_set_new(ex, "recheck",
                            json_pack("{s:s}", "error", "the text is no longer kept (pruned, or "
                                                        "never kept at the client's request)"));
    } else {
        const char *parts[64];
        size_t np = 0;
        for (size_t i = 0; i < json_array_size(stored) && np < 64; i++) {
            const char *c =
                json_string_value(json_object_get(json_object_get(json_array_get(stored, i),
                                                                  "context"),
                                                  "text"));
            if (c && c[0] != '@')
                parts[np++] = c;
        }
        mod_input in = {.text = rec->text, .len = strlen(rec->text)};
        mod_result res;
        int rc = engine_check(rs, &in, &res, &err);
        if (rc == 0 && np && !admin_same_matches(stored, &res)) {
            /* Not without participants: try with the names that aimed the stored matches. */
            engine_result_free(&res);
            in.participants = parts;
            in.n_participants = np;
            rc = engine_check(rs, &in, &res, &err);
        }
        if (rc != 0) {
            json_object_set_new(ex, "recheck", json_pack("{s:s}", "error", err.message));
        } else {
            /* A verdict an author sanction decided (reason) differs from the engine's on
             * purpose; the score is always the engine's. */
            const char *v = verdict_name(res.verdict);
            double diff = res.score - rec->score;
            json_object_set_new(
                ex, "recheck",
                json_pack("{s:s,s:f,s:b,s:b,s:b,s:o}", "verdict", v, "score", res.score,
                          "same_verdict", rec->verdict && !strcmp(rec->verdict, v), "same_score",
                          diff < 1e-9 && diff > -1e-9, "same_matches",
                          admin_same_matches(stored, &res), "decided_by",
                          rec->reason ? json_string(rec->reason) : json_null()));
            engine_result_free(&res);
        }
    }
    if (rs)
        ruleset_unref(rs);
    json_decref(files);
    json_decref(stored);
    return ex;
}

json_t *api_explain(api_ctx *ctx, store *st, const comment_record *rec, mod_error *err)
{
    json_t *o = api_record(rec);
    if (!o) {
        err_set(err, ERR_INTERNAL, "out of memory");
        return NULL;
    }
    json_object_set_new(o, "explain", admin_explain(ctx, st, rec));
    return o;
}

int api_wants_explain(const api_request *req)
{
    const char *v = api_arg(req, "explain");
    return v && (!*v || !strcmp(v, "1") || !strcasecmp(v, "true") || !strcasecmp(v, "yes"));
}

json_t *api_comment_explain(api_ctx *ctx, const comment_record *rec)
{
    return admin_explain(ctx, api_store(ctx), rec);
}

/* ---- GET /v1/rules ---- */

static json_t *admin_result(const reload_result *r)
{
    if (!r->at[0])
        return json_null();
    json_t *diags = json_array();
    for (size_t i = 0; i < r->n_diags; i++)
        json_array_append_new(diags, api_str(r->diags[i]));
    return json_pack("{s:s,s:s,s:o,s:b,s:b,s:s,s:o,s:o,s:f,s:{s:I,s:I},s:o}", "at", r->at,
                     "trigger", r->trigger, "by", api_str(r->actor), "ok", r->ok, "changed",
                     r->changed, "version", r->version, "previous",
                     r->previous[0] ? json_string(r->previous) : json_null(), "error",
                     api_str(r->error), "build_ms", r->build_ms, "examples", "passed",
                     (json_int_t)r->examples_passed, "failed", (json_int_t)r->examples_failed,
                     "diagnostics", diags);
}

api_status api_rules_get(api_ctx *ctx, api_request *req, api_reply *rep)
{
    (void)req;
    reload_status s;
    reload_status_get(admin_reloader, &s); /* the live set with its history, consistently */
    mod_ruleset *rs = s.live ? ruleset_ref(s.live) : api_ruleset_acquire(ctx);
    if (!rs) {
        reload_status_free(&s);
        api_error(rep, ERR_RULES, "no rule set is loaded");
        return API_DONE;
    }
    json_t *o = json_object();
    json_object_set_new(o, "version", json_string(ruleset_version(rs)));
    json_object_set_new(o, "loaded_at", s.live_since[0] ? json_string(s.live_since) : json_null());
    json_object_set_new(o, "loaded_by", s.live_trigger[0] ? json_string(s.live_trigger) : json_null());
    json_t *counts = json_object();
    size_t total = 0;
    for (int c = 0; c < CAT__COUNT; c++) {
        size_t n = ruleset_rule_count(rs, (mod_category)c);
        total += n;
        json_object_set_new(counts, category_name((mod_category)c), json_integer((json_int_t)n));
    }
    json_object_set_new(counts, "total", json_integer((json_int_t)total));
    json_object_set_new(o, "rules", counts);
    size_t n_ex, n_files;
    ruleset_examples(rs, &n_ex);
    const rule_file *files = ruleset_files(rs, &n_files);
    json_t *farr = json_array();
    for (size_t i = 0; i < n_files; i++)
        json_array_append_new(farr, json_pack("{s:s,s:I}", "name", files[i].name, "bytes",
                                              (json_int_t)files[i].len));
    json_object_set_new(o, "files", farr);
    json_object_set_new(o, "examples", json_integer((json_int_t)n_ex));
    json_object_set_new(o, "thresholds", api_thresholds(ruleset_policy(rs)));
    json_object_set_new(o, "rules_dir", api_str(s.rules_dir));
    json_object_set_new(o, "thresholds_file", api_str(s.thresholds));
    json_object_set_new(o, "watching", json_boolean(s.watching));
    json_object_set_new(o, "reloads", json_pack("{s:I,s:I}", "attempts", (json_int_t)s.attempts,
                                                "failures", (json_int_t)s.failures));
    json_object_set_new(o, "last_reload", admin_result(&s.last));
    /* "error": the files on disk do not load right now (the last attempt failed); "last_error"
     * stays after a fix, for the record. */
    json_object_set_new(o, "error", s.last.at[0] && !s.last.ok ? admin_result(&s.last)
                                                                 : json_null());
    json_object_set_new(o, "last_error", admin_result(&s.last_error));

    store_ruleset_info *vers = NULL;
    size_t nv = 0;
    mod_error err = {0};
    json_t *varr = json_array();
    if (store_ruleset_list(api_store(ctx), 0, &vers, &nv, &err) == 0) {
        for (size_t i = nv; i > 0 && nv - i < ADMIN_VERSIONS_SHOWN; i--)
            json_array_append_new(varr, json_pack("{s:o,s:o}", "version",
                                                  api_str(vers[i - 1].version), "loaded_at",
                                                  api_str(vers[i - 1].loaded_at)));
        store_ruleset_list_free(vers, nv);
    }
    json_object_set_new(o, "versions", varr);
    reload_status_free(&s);
    ruleset_unref(rs);
    api_reply_json(rep, 200, o, 0);
    return API_DONE;
}

/* ---- POST /v1/rules/reload ---- */

typedef struct {
    api_request *req;
    api_reply *rep;
} admin_wait;

/* On the reload thread: the reply, then the request wakes up on its own thread. */
static void admin_reload_done(void *arg, const reload_result *r)
{
    admin_wait *w = arg;
    api_request *req = w->req;
    api_reply *rep = w->rep;
    free(w);
    json_t *diags = json_array();
    for (size_t i = 0; i < r->n_diags; i++)
        json_array_append_new(diags, api_str(r->diags[i]));
    if (r->ok) {
        api_reply_json(rep, 200,
                       json_pack("{s:b,s:b,s:s,s:o,s:s,s:f,s:{s:I,s:I},s:o}", "ok", 1, "changed",
                                 r->changed, "version", r->version, "previous",
                                 r->previous[0] ? json_string(r->previous) : json_null(), "at",
                                 r->at, "build_ms", r->build_ms, "examples", "passed",
                                 (json_int_t)r->examples_passed, "failed",
                                 (json_int_t)r->examples_failed, "diagnostics", diags),
                       0);
    } else {
        /* The one error shape, with what is still live and every diagnostic. */
        api_error_json(rep, ERR_RULES, r->error ? r->error : "the rule files do not load",
                       json_pack("{s:b,s:o,s:o}", "ok", 0, "version",
                                 r->version[0] ? json_string(r->version) : json_null(),
                                 "diagnostics", diags));
    }
    req->resume(req->conn);
}

api_status api_rules_reload(api_ctx *ctx, api_request *req, api_reply *rep)
{
    (void)ctx;
    if (!admin_reloader) {
        api_error(rep, ERR_INTERNAL, "reloads are not available in this process");
        return API_DONE;
    }
    admin_wait *w = calloc(1, sizeof *w);
    if (!w) {
        api_error(rep, ERR_INTERNAL, "out of memory");
        return API_DONE;
    }
    w->req = req;
    w->rep = rep;
    /* Suspended before the request is queued: the reload may finish before we return. */
    req->suspend(req->conn);
    if (reload_async(admin_reloader, "api", req->key_name[0] ? req->key_name : "api",
                     admin_reload_done, w) != 0) {
        free(w);
        api_error(rep, ERR_STORE, "the server is shutting down");
        req->resume(req->conn);
    }
    return API_PENDING;
}

/* ---- POST /v1/check ---- */

api_status api_check_post(api_ctx *ctx, api_request *req, api_reply *rep)
{
    api_comment c;
    mod_error err = {0};
    if (api_comment_read(req, rep, &c) != 0)
        return API_DONE;
    json_t *v = json_object_get((json_t *)c.doc, "version");
    if (v && !json_is_null(v) && !json_is_string(v)) {
        api_comment_free(&c);
        api_error(rep, ERR_BAD_FIELD, "\"version\" must be a string: \"live\" or a version");
        return API_DONE;
    }
    int live = 0;
    mod_ruleset *rs = api_admin_version(ctx, api_store(ctx), json_string_value(v), &live, &err);
    if (!rs) {
        api_comment_free(&c);
        api_error_from(rep, &err);
        return API_DONE;
    }
    mod_input in = {.text = c.text, .len = c.text_len, .participants = c.participants,
                    .n_participants = c.n_participants};
    mod_result res;
    if (engine_check(rs, &in, &res, &err) != 0) {
        ruleset_unref(rs);
        api_comment_free(&c);
        api_error_from(rep, &err);
        return API_DONE;
    }
    json_t *o = api_check(rs, &res);
    engine_result_free(&res);
    ruleset_unref(rs);
    api_comment_free(&c);
    if (!o) {
        api_error(rep, ERR_INTERNAL, "out of memory");
        return API_DONE;
    }
    /* A dry run: nothing was stored, and the reply says so. */
    json_object_set_new(o, "stored", json_false());
    json_object_set_new(o, "live", json_boolean(live));
    api_reply_json(rep, 200, o, 0);
    return API_DONE;
}
