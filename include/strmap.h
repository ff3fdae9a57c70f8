/* strmap.h - a small open-addressing hash map from strings to 32-bit values. */
#ifndef MODERATORD_STRMAP_H
#define MODERATORD_STRMAP_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

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

/* The hash reads eight bytes per multiply: tokens are hashed once each, on the hot path. Both
 * forms below give the same value; they differ only in how they read the last bytes. */
static inline uint64_t strmap_hash_words(const char **s, size_t *n)
{
    uint64_t h = 0x9E3779B97F4A7C15ULL ^ *n;
    for (; *n >= 8; *s += 8, *n -= 8) {
        uint64_t v;
        memcpy(&v, *s, 8);
        h = (h ^ v) * 0xFF51AFD7ED558CCDULL;
        h ^= h >> 32;
    }
    return h;
}

static inline uint64_t strmap_hash_tail_bytes(const char *s, size_t n)
{
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++)
        v |= (uint64_t)(unsigned char)s[i] << (8 * i);
    return v;
}

static inline uint64_t strmap_hash_finish(uint64_t h, uint64_t tail, size_t n)
{
    if (n)
        h = (h ^ tail) * 0xFF51AFD7ED558CCDULL;
    h ^= h >> 29;
    h *= 0xC4CEB9FE1A85EC53ULL;
    return h ^ (h >> 32);
}

static inline uint64_t strmap_hash(const char *s, size_t n)
{
    uint64_t h = strmap_hash_words(&s, &n);
    return strmap_hash_finish(h, strmap_hash_tail_bytes(s, n), n);
}

/* strmap_hash of s[0..n) when 8 bytes past s + n may be read (a buffer with slack). */
static inline uint64_t strmap_hash_padded(const char *s, size_t n)
{
    uint64_t h = strmap_hash_words(&s, &n), tail = 0;
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    if (n) {
        memcpy(&tail, s, 8);
        tail &= ~0ULL >> (64 - 8 * n); /* the bytes of the word only */
    }
#else
    tail = strmap_hash_tail_bytes(s, n);
#endif
    return strmap_hash_finish(h, tail, n);
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
