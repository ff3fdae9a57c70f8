/* speller.c - hunspell behind a mutex (hunspell handles are not safe to share across threads). */
#include "speller.h"

#include <hunspell/hunspell.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef SPELLER_DICT_DIR
#define SPELLER_DICT_DIR "/usr/share/hunspell"
#endif

static pthread_mutex_t english_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t english_once = PTHREAD_ONCE_INIT;
static Hunhandle *english;

static void english_open(void)
{
    const char *dir = getenv("MODERATORD_DICT_DIR");
    char aff[512], dic[512];
    snprintf(aff, sizeof aff, "%s/en_US.aff", dir ? dir : SPELLER_DICT_DIR);
    snprintf(dic, sizeof dic, "%s/en_US.dic", dir ? dir : SPELLER_DICT_DIR);
    if (access(aff, R_OK) == 0 && access(dic, R_OK) == 0)
        english = Hunspell_create(aff, dic);
}

__attribute__((destructor)) static void english_close(void)
{
    if (english)
        Hunspell_destroy(english);
    english = NULL;
}

int speller_english_ready(void)
{
    pthread_once(&english_once, english_open);
    return english ? 0 : -1;
}

int speller_is_english(const char *word)
{
    if (speller_english_ready() < 0)
        return 0;
    pthread_mutex_lock(&english_lock);
    int ok = Hunspell_spell(english, word);
    pthread_mutex_unlock(&english_lock);
    return ok != 0;
}

void speller_stems(const char *word, int (*fn)(const char *stem, void *ctx), void *ctx)
{
    if (speller_english_ready() < 0)
        return;
    char **list = NULL;
    pthread_mutex_lock(&english_lock);
    int n = Hunspell_stem(english, &list, word);
    pthread_mutex_unlock(&english_lock);
    for (int i = 0; i < n; i++)
        if (fn(list[i], ctx))
            break;
    if (n > 0) {
        pthread_mutex_lock(&english_lock);
        Hunspell_free_list(english, &list, n);
        pthread_mutex_unlock(&english_lock);
    }
}

struct vocab_speller {
    Hunhandle *h;
    pthread_mutex_t lock;
};

/* Spelling games commenters play, as hunspell REP (replacement) and MAP (similar letter) tables. */
static const char vocab_aff[] =
    "SET UTF-8\n"
    "TRY esiarntolcdugmphbyfvkwzxjq\n"
    "MAXNGRAMSUGS 0\n"
    "NOSPLITSUGS\n"
    "REP 14\n"
    "REP ph f\n"
    "REP f ph\n"
    "REP k ck\n"
    "REP ck k\n"
    "REP kk ck\n"
    "REP x ck\n"
    "REP z s\n"
    "REP ia i\n"
    "REP er a\n"
    "REP a er\n"
    "REP uh u\n"
    "REP oo u\n"
    "REP q k\n"
    "REP kc ck\n"
    "MAP 4\n"
    "MAP aeiouy\n"
    "MAP sz\n"
    "MAP ck\n"
    "MAP il\n";

vocab_speller *speller_vocab_new(const char *const *words, size_t count)
{
    char dir[] = "/tmp/moderatord-vocab-XXXXXX";
    if (!mkdtemp(dir))
        return NULL;
    char aff[64], dic[64];
    snprintf(aff, sizeof aff, "%s/v.aff", dir);
    snprintf(dic, sizeof dic, "%s/v.dic", dir);
    vocab_speller *vs = NULL;
    FILE *fa = fopen(aff, "w"), *fd = fopen(dic, "w");
    if (fa && fd) {
        fputs(vocab_aff, fa);
        fprintf(fd, "%zu\n", count);
        for (size_t i = 0; i < count; i++)
            fprintf(fd, "%s\n", words[i]);
    }
    int ok = fa && fd;
    if (fa)
        ok &= fclose(fa) == 0;
    if (fd)
        ok &= fclose(fd) == 0;
    if (ok && (vs = calloc(1, sizeof *vs))) {
        vs->h = Hunspell_create(aff, dic);
        pthread_mutex_init(&vs->lock, NULL);
        if (!vs->h) {
            free(vs);
            vs = NULL;
        }
    }
    unlink(aff);
    unlink(dic);
    rmdir(dir);
    return vs;
}

void speller_vocab_free(vocab_speller *vs)
{
    if (!vs)
        return;
    Hunspell_destroy(vs->h);
    pthread_mutex_destroy(&vs->lock);
    free(vs);
}

void speller_vocab_suggest(vocab_speller *vs, const char *word,
                           int (*fn)(const char *suggestion, void *ctx), void *ctx)
{
    char **list = NULL;
    pthread_mutex_lock(&vs->lock);
    int n = Hunspell_suggest(vs->h, &list, word);
    pthread_mutex_unlock(&vs->lock);
    for (int i = 0; i < n; i++)
        if (fn(list[i], ctx))
            break;
    if (n > 0) {
        pthread_mutex_lock(&vs->lock);
        Hunspell_free_list(vs->h, &list, n);
        pthread_mutex_unlock(&vs->lock);
    }
}
