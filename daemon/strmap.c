/* strmap.c - open-addressing string map (linear probing) and growable uint32 arrays. */
#include "strmap.h"

#include <stdlib.h>
#include <string.h>

#define EMPTY UINT32_MAX

static inline int same_key(const char *a, const char *b, size_t n)
{
    if (n > 16)
        return memcmp(a, b, n) == 0;
    for (size_t i = 0; i < n; i++) /* most keys are short words: no call */
        if (a[i] != b[i])
            return 0;
    return 1;
}

static strmap_slot *find(const strmap *m, const char *key, size_t klen, uint64_t h)
{
    size_t mask = m->cap - 1;
    for (size_t i = h & mask;; i = (i + 1) & mask) {
        strmap_slot *s = &m->slots[i];
        if (s->klen == EMPTY ||
            (s->hash == h && s->klen == klen && same_key(strmap_slot_key(s), key, klen)))
            return s;
    }
}

uint32_t *strmap_get_hashed(const strmap *m, const char *key, size_t klen, uint64_t hash)
{
    if (!m->cap)
        return NULL;
    strmap_slot *s = find(m, key, klen, hash);
    return s->klen != EMPTY ? &s->value : NULL;
}

uint32_t *strmap_get(const strmap *m, const char *key, size_t klen)
{
    return strmap_get_hashed(m, key, klen, strmap_hash(key, klen));
}

static strmap_slot *alloc_slots(size_t cap)
{
    strmap_slot *slots = malloc(cap * sizeof *slots);
    if (slots)
        for (size_t i = 0; i < cap; i++)
            slots[i].klen = EMPTY;
    return slots;
}

static int grow(strmap *m)
{
    size_t cap = m->cap ? m->cap * 2 : 64;
    strmap_slot *slots = alloc_slots(cap);
    if (!slots)
        return -1;
    strmap old = *m;
    m->slots = slots;
    m->cap = cap;
    for (size_t i = 0; i < old.cap; i++)
        if (old.slots[i].klen != EMPTY)
            *find(m, strmap_slot_key(&old.slots[i]), old.slots[i].klen, old.slots[i].hash) =
                old.slots[i];
    free(old.slots);
    return 0;
}

uint32_t *strmap_put(strmap *m, const char *key, size_t klen, uint32_t value, int *added)
{
    return strmap_put_hashed(m, key, klen, strmap_hash(key, klen), value, added);
}

uint32_t *strmap_put_hashed(strmap *m, const char *key, size_t klen, uint64_t h, uint32_t value,
                            int *added)
{
    if (added)
        *added = 0;
    if ((m->count + 1) * 4 > m->cap * 3 && grow(m) < 0)
        return NULL;
    strmap_slot *s = find(m, key, klen, h);
    if (s->klen != EMPTY)
        return &s->value;
    if (klen >= EMPTY)
        return NULL;
    strmap_slot n = {.hash = h, .klen = (uint32_t)klen, .value = value};
    if (klen <= STRMAP_INLINE) {
        memcpy(n.k.inline_key, key, klen);
    } else {
        n.k.heap_key = malloc(klen);
        if (!n.k.heap_key)
            return NULL;
        memcpy(n.k.heap_key, key, klen);
    }
    *s = n;
    m->count++;
    if (added)
        *added = 1;
    return &s->value;
}

void strmap_clear(strmap *m)
{
    for (size_t i = 0; i < m->cap; i++) {
        if (m->slots[i].klen != EMPTY && m->slots[i].klen > STRMAP_INLINE)
            free(m->slots[i].k.heap_key);
        m->slots[i].klen = EMPTY;
    }
    m->count = 0;
}

void strmap_free(strmap *m)
{
    strmap_clear(m);
    free(m->slots);
    memset(m, 0, sizeof *m);
}

int u32vec_push(u32vec *vec, uint32_t x)
{
    if (vec->n == vec->cap) {
        uint32_t cap = vec->cap ? vec->cap * 2 : 4;
        uint32_t *p = realloc(vec->v, cap * sizeof *p);
        if (!p)
            return -1;
        vec->v = p;
        vec->cap = cap;
    }
    vec->v[vec->n++] = x;
    return 0;
}

int u32vec_add_unique(u32vec *vec, uint32_t x)
{
    for (uint32_t i = 0; i < vec->n; i++)
        if (vec->v[i] == x)
            return 0;
    return u32vec_push(vec, x);
}

void u32vec_free(u32vec *vec)
{
    free(vec->v);
    memset(vec, 0, sizeof *vec);
}
