/* strmap.h - a small open-addressing hash map from strings to 32-bit values. */
#ifndef MODERATORD_STRMAP_H
#define MODERATORD_STRMAP_H

#include <stddef.h>
#include <stdint.h>

#define STRMAP_INLINE 16

typedef struct {
    uint64_t hash;
    uint32_t klen;    /* UINT32_MAX for an empty slot */
    uint32_t value;
    union {           /* short keys live in the slot: one memory access per lookup */
        char inline_key[STRMAP_INLINE];
        char *heap_key;
    } k;
} strmap_slot;

static inline const char *strmap_slot_key(const strmap_slot *s)
{
    return s->klen <= STRMAP_INLINE ? s->k.inline_key : s->k.heap_key;
}

typedef struct {
    strmap_slot *slots;
    size_t cap, count; /* cap is a power of two */
} strmap;

static inline uint64_t strmap_hash(const char *s, size_t n)
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 1099511628211ULL;
    }
    return h;
}

/* Returns a pointer to the value for key, or NULL. */
uint32_t *strmap_get(const strmap *m, const char *key, size_t klen);
/* The same, with the key's strmap_hash already computed. */
uint32_t *strmap_get_hashed(const strmap *m, const char *key, size_t klen, uint64_t hash);
/* Inserts key (copied) with value if absent; returns a pointer to the stored value, and sets
 * *added to 1 when it was inserted. NULL on allocation failure. */
uint32_t *strmap_put(strmap *m, const char *key, size_t klen, uint32_t value, int *added);
/* The same, with the key's hash given (a caller may salt it to keep two kinds of entry apart). */
uint32_t *strmap_put_hashed(strmap *m, const char *key, size_t klen, uint64_t hash,
                            uint32_t value, int *added);
void strmap_clear(strmap *m);
void strmap_free(strmap *m);

/* A growable array of 32-bit values. */
typedef struct {
    uint32_t *v;
    uint32_t n, cap;
} u32vec;

int u32vec_push(u32vec *vec, uint32_t x);
/* Pushes x unless it is already there. */
int u32vec_add_unique(u32vec *vec, uint32_t x);
void u32vec_free(u32vec *vec);

#endif
