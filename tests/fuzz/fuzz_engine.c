/* fuzz_engine.c - libFuzzer driver: any bytes through engine_check must neither crash nor leak,
 * and every match must lie inside the text with a span that slices it.
 * Build: make fuzz; run: build-fuzz/fuzz_engine tests/fuzz/corpus -max_total_time=60 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"

static mod_ruleset *fuzz_rules;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    mod_error err;
    const char *dir = getenv("MODERATORD_FUZZ_RULES");
    if (ruleset_load(dir ? dir : "rules", &fuzz_rules, NULL, &err) < 0) {
        fprintf(stderr, "fuzz: %s\n", err.message);
        abort();
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    mod_input in = {.text = (const char *)data, .len = size};
    mod_result res;
    mod_error err;
    if (engine_check(fuzz_rules, &in, &res, &err) < 0) {
        if (err.code != ERR_BAD_UTF8 || utf8_valid((const char *)data, size))
            abort();
        return 0;
    }
    for (size_t i = 0; i < res.n_matches; i++) {
        const mod_match *m = &res.matches[i];
        if (m->start >= m->end || !m->text || strlen(m->text) > size)
            abort();
    }
    engine_result_free(&res);
    return 0;
}
