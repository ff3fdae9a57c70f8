/* features.c - the calibration driver: scores every row of labeled JSONL files with the engine and
 * prints, per row, the labels and the six Perspective features of perspective_features() (the
 * same function the daemon maps to probabilities), one tab-separated line each. fit.mjs reads it.
 *     build/calibrate-features RULES_DIR FILE.jsonl... > features.tsv */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_compat.h"
#include "engine.h"
#include "ruleset.h"

/* A label: 1, 0, or -1 for null/absent. */
static int label(json_t *labels, const char *name)
{
    json_t *v = json_object_get(labels, name);
    return json_is_integer(v) ? (int)json_integer_value(v) : json_is_true(v) ? 1
                                : json_is_false(v)                        ? 0
                                                                          : -1;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: %s RULES_DIR FILE.jsonl...\n", argv[0]);
        return 2;
    }
    mod_ruleset *rs = NULL;
    mod_error err = {0};
    if (ruleset_load(argv[1], &rs, NULL, &err) != 0) {
        fprintf(stderr, "%s: %s\n", argv[1], err.message);
        return 1;
    }
    const policy_config *pol = ruleset_policy(rs);
    printf("file\tid\ttoxic\tinsult\tprofanity\tidentity_attack\tthreat\texpected\tverdict");
    for (int a = 0; a < PA__COUNT; a++)
        printf("\t%s", perspective_attr_name((perspective_attr)a));
    printf("\n");
    for (int f = 2; f < argc; f++) {
        FILE *in = fopen(argv[f], "r");
        if (!in) {
            perror(argv[f]);
            return 1;
        }
        const char *base = strrchr(argv[f], '/') ? strrchr(argv[f], '/') + 1 : argv[f];
        char *line = NULL;
        size_t cap = 0;
        ssize_t n;
        long rows = 0;
        while ((n = getline(&line, &cap, in)) > 0) {
            json_t *row = json_loadb(line, (size_t)n, 0, NULL);
            json_t *text = json_object_get(row, "text");
            if (!json_is_string(text)) {
                json_decref(row);
                continue;
            }
            json_t *labels = json_object_get(row, "labels");
            /* Threat is annotated only on the Civil Comments rows (meta.threat_majority). */
            json_t *tm = json_object_get(json_object_get(row, "meta"), "threat_majority");
            int threat = json_is_integer(tm) ? (int)json_integer_value(tm) : -1;
            const char *expected = json_string_value(json_object_get(row, "expected"));
            mod_input mi = {.text = json_string_value(text), .len = json_string_length(text)};
            mod_result res;
            if (engine_check(rs, &mi, &res, &err) != 0) {
                json_decref(row);
                continue;
            }
            double feat[PA__COUNT];
            perspective_features(pol, &res, feat);
            const char *id = json_string_value(json_object_get(row, "id"));
            printf("%s\t%s\t%d\t%d\t%d\t%d\t%d\t%s\t%s", base, id ? id : "", label(labels, "toxic"),
                   label(labels, "insult"), label(labels, "profanity"),
                   label(labels, "identity_attack"), threat, expected ? expected : "",
                   verdict_name(res.verdict));
            for (int a = 0; a < PA__COUNT; a++)
                printf("\t%.6g", feat[a]);
            printf("\n");
            engine_result_free(&res);
            json_decref(row);
            rows++;
        }
        free(line);
        fclose(in);
        fprintf(stderr, "%s: %ld rows\n", base, rows);
    }
    ruleset_unref(rs);
    engine_thread_cleanup();
    return 0;
}
