/*
 * Multi-index hashing search for 256-bit PDQ hashes: the hot loop of vigil.index.mih.
 *
 * A segment holds N hashes (codes, N x 32 bytes) and, for each of the 16 16-bit words ("chunks")
 * of a hash, the hash positions sorted by that chunk (perms, 16 x N uint32) with bucket bounds
 * (offsets, 16 x 65537 uint32). By the pigeonhole principle a hash within `threshold` bits of the
 * query has at least one chunk within r = threshold / 16 bits of the query's chunk, so probing
 * every chunk value within r of the query's in each of the 16 tables finds every match: exact
 * results. A match seen through several tables is reported only from the first one that could see
 * it, so nothing is reported twice and no per-query scratch memory is needed.
 *
 * The GIL is released while searching. Results come back as three bytes objects (query index
 * int32, position uint32, distance uint8) that the caller views with numpy.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define CHUNKS 16
#define BUCKETS 65536

static inline unsigned chunk_of(const uint8_t *h, int t) { return ((unsigned)h[2 * t] << 8) | h[2 * t + 1]; }

static inline int distance256(const uint8_t *a, const uint8_t *b) {
    uint64_t x[4], y[4];
    memcpy(x, a, 32);
    memcpy(y, b, 32);
    return __builtin_popcountll(x[0] ^ y[0]) + __builtin_popcountll(x[1] ^ y[1]) +
           __builtin_popcountll(x[2] ^ y[2]) + __builtin_popcountll(x[3] ^ y[3]);
}

typedef struct {
    int32_t *query;
    uint32_t *pos;
    uint8_t *dist;
    size_t len, cap;
} Results;

static int push(Results *r, int32_t q, uint32_t p, uint8_t d) {
    if (r->len == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 1024;
        int32_t *nq = realloc(r->query, cap * sizeof *nq);
        if (!nq) return -1;
        r->query = nq;
        uint32_t *np_ = realloc(r->pos, cap * sizeof *np_);
        if (!np_) return -1;
        r->pos = np_;
        uint8_t *nd = realloc(r->dist, cap);
        if (!nd) return -1;
        r->dist = nd;
        r->cap = cap;
    }
    r->query[r->len] = q;
    r->pos[r->len] = p;
    r->dist[r->len] = d;
    r->len++;
    return 0;
}

/* Candidates of one query are gathered first, then checked with prefetching far ahead: the
 * checks are random reads of 32-byte codes, and keeping many in flight hides memory latency. */
#define AHEAD 24

static int search(const uint8_t *codes, Py_ssize_t n, const uint32_t *perms, const uint32_t *offsets,
                  const uint8_t *queries, Py_ssize_t nq, int threshold, const uint16_t *masks,
                  Py_ssize_t nmasks, int radius, Results *out) {
    size_t cap = 4096;
    uint32_t *cand = malloc(cap * sizeof *cand);
    uint8_t *table = malloc(cap);
    if (!cand || !table) goto fail;
    for (Py_ssize_t q = 0; q < nq; q++) {
        const uint8_t *query = queries + 32 * q;
        size_t count = 0;
        for (int t = 0; t < CHUNKS; t++) {
            const uint32_t *perm = perms + (size_t)t * n;
            const uint32_t *off = offsets + (size_t)t * (BUCKETS + 1);
            unsigned qc = chunk_of(query, t);
            for (Py_ssize_t m = 0; m < nmasks; m++) {
                unsigned v = qc ^ masks[m];
                uint32_t start = off[v], stop = off[v + 1];
                if (count + (stop - start) > cap) {
                    while (count + (stop - start) > cap) cap *= 2;
                    uint32_t *nc = realloc(cand, cap * sizeof *cand);
                    if (!nc) goto fail;
                    cand = nc;
                    uint8_t *nt = realloc(table, cap);
                    if (!nt) goto fail;
                    table = nt;
                }
                memcpy(cand + count, perm + start, (size_t)(stop - start) * sizeof *cand);
                memset(table + count, t, stop - start);
                count += stop - start;
            }
        }
        for (size_t i = 0; i < count; i++) {
            if (i + AHEAD < count) __builtin_prefetch(codes + 32 * (size_t)cand[i + AHEAD]);
            const uint8_t *code = codes + 32 * (size_t)cand[i];
            int d = distance256(code, query);
            if (d > threshold) continue;
            int seen = 0; /* reported already from an earlier table? */
            for (int e = 0; e < table[i] && !seen; e++)
                seen = __builtin_popcount(chunk_of(code, e) ^ chunk_of(query, e)) <= radius;
            if (!seen && push(out, (int32_t)q, cand[i], (uint8_t)d) < 0) goto fail;
        }
    }
    free(cand);
    free(table);
    return 0;
fail:
    free(cand);
    free(table);
    return -1;
}

static PyObject *py_search(PyObject *self, PyObject *args) {
    Py_buffer codes, perms, offsets, queries, masks;
    int threshold, radius;
    if (!PyArg_ParseTuple(args, "y*y*y*y*iy*i", &codes, &perms, &offsets, &queries, &threshold, &masks,
                          &radius))
        return NULL;
    PyObject *result = NULL;
    Py_ssize_t n = codes.len / 32, nq = queries.len / 32;
    if (codes.len % 32 || queries.len % 32 || perms.len != (Py_ssize_t)(CHUNKS * n * sizeof(uint32_t)) ||
        offsets.len != (Py_ssize_t)(CHUNKS * (BUCKETS + 1) * sizeof(uint32_t)) || threshold < 0 ||
        threshold > 255) {
        PyErr_SetString(PyExc_ValueError, "inconsistent index buffers or threshold");
        goto done;
    }
    Results out = {0};
    int rc;
    Py_BEGIN_ALLOW_THREADS
    rc = search(codes.buf, n, perms.buf, offsets.buf, queries.buf, nq, threshold, masks.buf,
                masks.len / (Py_ssize_t)sizeof(uint16_t), radius, &out);
    Py_END_ALLOW_THREADS
    if (rc < 0) {
        PyErr_NoMemory();
    } else {
        static const char none[1] = {0}; /* "y#" turns a NULL pointer into None */
        result = Py_BuildValue("y#y#y#", out.len ? (const char *)out.query : none,
                               (Py_ssize_t)(out.len * sizeof(int32_t)), out.len ? (const char *)out.pos : none,
                               (Py_ssize_t)(out.len * sizeof(uint32_t)), out.len ? (const char *)out.dist : none,
                               (Py_ssize_t)out.len);
    }
    free(out.query);
    free(out.pos);
    free(out.dist);
done:
    PyBuffer_Release(&codes);
    PyBuffer_Release(&perms);
    PyBuffer_Release(&offsets);
    PyBuffer_Release(&queries);
    PyBuffer_Release(&masks);
    return result;
}

static PyMethodDef methods[] = {
    {"search", py_search, METH_VARARGS,
     "search(codes, perms, offsets, queries, threshold, masks, radius) -> (query_idx, pos, dist) bytes"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_mih", NULL, -1, methods};

PyMODINIT_FUNC PyInit__mih(void) { return PyModule_Create(&module); }
