/*
 * Near pairs inside one large set of PDQ hashes: the hot loops of vigil.index.clusters.
 *
 * _mih.c answers one query at a time; grouping a case asks millions of queries (every variant of
 * every picture) against the case's own hashes, so here the two sides are joined bucket against
 * bucket instead. For chunk t (bytes 2t, 2t+1 of the 16 16-bit chunks), both sides are partitioned
 * by their chunk value (`partition`: a radix sort that also copies the first 128 bits of each hash
 * into bucket order, so the join reads both sides sequentially). Then (`join`) every hash
 * of the buckets v ^ mask (every mask of at most r = threshold / 16 bits: 17 buckets at 31) is
 * compared with every query of bucket v. By the pigeonhole principle a hash within `threshold` bits
 * of a query has a chunk within r bits of the query's, so joining all 16 tables finds every pair:
 * exact results. A pair seen through several tables is reported only from the first one that
 * could see it.
 *
 * A comparison first sums the distance of the first 128 bits, 4 queries at a time with AVX2 where
 * the processor has it; for unrelated hashes that sum is above the threshold nearly always, and the
 * rest are checked in full. Pairs whose two sides have the same owner (a picture and its own
 * variants; two frames of one video) are not reported. The GIL is released; a caller joins ranges
 * of buckets [v0, v1) in threads. Results: two bytes objects (query index int32, position uint32).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define CHUNKS 16
#define BUCKETS 65536

static inline unsigned chunk_of(const uint8_t *h, int t) { return ((unsigned)h[2 * t] << 8) | h[2 * t + 1]; }

/* ---- partition(hashes, owner, t, records, bounds, scratch): by chunk t, into caller's buffers ---- */

typedef struct {
    uint64_t w[2];  /* the first 128 bits of the hash */
    uint32_t at;    /* its position */
    uint32_t owner; /* pairs of one owner are not reported */
} Record;

typedef struct {
    Record r;
    uint32_t key; /* chunk t */
    uint32_t pad;
} Keyed;

/* First by the high byte of the key (one pass over the hashes, 256 write streams), then each of
 * those 256 groups, small enough to stay in cache, by the low byte. Stable: a radix sort. */
static void partition(const uint8_t *h, const uint32_t *owner, size_t n, int t, Record *out, uint32_t *off,
                      Keyed *tmp) {
    size_t hi[256];
    memset(off, 0, (BUCKETS + 1) * sizeof *off);
    for (size_t i = 0; i < n; i++) off[chunk_of(h + 32 * i, t) + 1]++;
    for (int v = 0; v < BUCKETS; v++) off[v + 1] += off[v];
    for (int b = 0; b < 256; b++) hi[b] = off[256 * b];
    for (size_t i = 0; i < n; i++) {
        const uint8_t *x = h + 32 * i;
        Keyed *k = tmp + hi[x[2 * t]]++;
        memcpy(k->r.w, x, 16);
        k->r.at = (uint32_t)i;
        k->r.owner = owner[i];
        k->key = chunk_of(x, t);
    }
    for (int b = 0; b < 256; b++) {
        uint32_t next[256];
        memcpy(next, off + 256 * b, sizeof next);
        for (size_t i = off[256 * b]; i < off[256 * b + 256]; i++) out[next[tmp[i].key & 255]++] = tmp[i].r;
    }
}

static PyObject *py_partition(PyObject *self, PyObject *args) {
    (void)self;
    Py_buffer hashes, owner, records, bounds, scratch;
    int t;
    if (!PyArg_ParseTuple(args, "y*y*iw*w*w*", &hashes, &owner, &t, &records, &bounds, &scratch)) return NULL;
    PyObject *result = NULL;
    size_t n = (size_t)hashes.len / 32;
    if (hashes.len % 32 || (size_t)owner.len != n * sizeof(uint32_t) || t < 0 || t >= CHUNKS || n > UINT32_MAX ||
        (size_t)records.len < n * sizeof(Record) || (size_t)scratch.len < n * sizeof(Keyed) ||
        bounds.len != (BUCKETS + 1) * (Py_ssize_t)sizeof(uint32_t)) {
        PyErr_SetString(PyExc_ValueError, "partition: N x 32 bytes (N < 2**32), N owners, t 0-15, buffers too small");
        goto done;
    }
    Py_BEGIN_ALLOW_THREADS
    partition(hashes.buf, owner.buf, n, t, records.buf, bounds.buf, scratch.buf);
    Py_END_ALLOW_THREADS
    result = Py_NewRef(Py_None);
done:
    PyBuffer_Release(&hashes);
    PyBuffer_Release(&owner);
    PyBuffer_Release(&records);
    PyBuffer_Release(&bounds);
    PyBuffer_Release(&scratch);
    return result;
}

/* ---- join(...) -> (query index int32, position uint32) ---- */

typedef struct {
    int32_t *query;
    uint32_t *pos;
    size_t len, cap;
} Pairs;

static int push(Pairs *r, int32_t q, uint32_t p) {
    if (r->len == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 1024;
        int32_t *nq = realloc(r->query, cap * sizeof *nq);
        if (!nq) return -1;
        r->query = nq;
        uint32_t *np_ = realloc(r->pos, cap * sizeof *np_);
        if (!np_) return -1;
        r->pos = np_;
        r->cap = cap;
    }
    r->query[r->len] = q;
    r->pos[r->len] = p;
    r->len++;
    return 0;
}

typedef struct { /* one side of the join, partitioned by chunk t */
    const Record *rec;     /* in bucket order */
    const uint32_t *off;   /* bucket bounds, 65537 */
    const uint8_t *hashes; /* by position, 32 bytes each */
} Side;

typedef struct {
    Side code, query;
    int threshold, radius, t, v0, v1, simd;
    const uint16_t *masks;
    Py_ssize_t nmasks;
} Job;

/* A pair that passed the 128-bit filter: the owners, the full distance, the earlier tables. */
static inline int report(const Job *job, Pairs *out, const Record *c, const Record *q) {
    if (c->owner == q->owner) return 0; /* the commonest: a hash and itself */
    const uint8_t *code = job->code.hashes + 32 * (size_t)c->at, *query = job->query.hashes + 32 * (size_t)q->at;
    uint64_t a[4], b[4];
    memcpy(a, code, 32);
    memcpy(b, query, 32);
    int d = __builtin_popcountll(a[0] ^ b[0]) + __builtin_popcountll(a[1] ^ b[1]) +
            __builtin_popcountll(a[2] ^ b[2]) + __builtin_popcountll(a[3] ^ b[3]);
    if (d > job->threshold) return 0;
    for (int e = 0; e < job->t; e++) /* reported already from an earlier table? */
        if (__builtin_popcount(chunk_of(code, e) ^ chunk_of(query, e)) <= job->radius) return 0;
    return push(out, (int32_t)q->at, c->at);
}

/* Codes [i0, i1) (bucket order) against the queries of one bucket, held in blocks of 4: the first
 * words of 4 queries, then their second words; `slot` has the bucket's queries (their positions). */
typedef int (*Scan)(const Job *, Pairs *, uint32_t, uint32_t, const uint64_t *, size_t, const Record *);

static int scan_scalar(const Job *job, Pairs *out, uint32_t i0, uint32_t i1, const uint64_t *blocks, size_t nb,
                       const Record *slot) {
    const int thr = job->threshold;
    for (uint32_t i = i0; i < i1; i++) {
        const uint64_t c0 = job->code.rec[i].w[0], c1 = job->code.rec[i].w[1];
        for (size_t j = 0; j < nb; j++) {
            const uint64_t *b = blocks + 8 * (j / 4) + j % 4;
            if (__builtin_popcountll(c0 ^ b[0]) + __builtin_popcountll(c1 ^ b[4]) <= thr &&
                report(job, out, job->code.rec + i, slot + j) < 0)
                return -1;
        }
    }
    return 0;
}

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define HAVE_AVX2 1
/* The same, 4 queries at a time: XOR, popcount of each byte by a nibble table, sums per lane. */
__attribute__((target("avx2"))) static int scan_avx2(const Job *job, Pairs *out, uint32_t i0, uint32_t i1,
                                                     const uint64_t *blocks, size_t nb, const Record *slot) {
    const __m256i lut = _mm256_setr_epi8(0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4, 0, 1, 1, 2, 1, 2, 2, 3, 1,
                                         2, 2, 3, 2, 3, 3, 4);
    const __m256i low = _mm256_set1_epi8(0x0f), zero = _mm256_setzero_si256();
    const __m256i thr = _mm256_set1_epi64x(job->threshold);
    const size_t nblk = (nb + 3) / 4;
    for (uint32_t i = i0; i < i1; i++) {
        const __m256i c0 = _mm256_set1_epi64x((long long)job->code.rec[i].w[0]);
        const __m256i c1 = _mm256_set1_epi64x((long long)job->code.rec[i].w[1]);
        for (size_t k = 0; k < nblk; k++) {
            __m256i x0 = _mm256_xor_si256(c0, _mm256_loadu_si256((const __m256i *)(blocks + 8 * k)));
            __m256i x1 = _mm256_xor_si256(c1, _mm256_loadu_si256((const __m256i *)(blocks + 8 * k + 4)));
            __m256i p0 = _mm256_add_epi8(_mm256_shuffle_epi8(lut, _mm256_and_si256(x0, low)),
                                         _mm256_shuffle_epi8(lut, _mm256_and_si256(_mm256_srli_epi16(x0, 4), low)));
            __m256i p1 = _mm256_add_epi8(_mm256_shuffle_epi8(lut, _mm256_and_si256(x1, low)),
                                         _mm256_shuffle_epi8(lut, _mm256_and_si256(_mm256_srli_epi16(x1, 4), low)));
            __m256i sum = _mm256_sad_epu8(_mm256_add_epi8(p0, p1), zero);
            int far = _mm256_movemask_pd(_mm256_castsi256_pd(_mm256_cmpgt_epi64(sum, thr)));
            if (far == 0xF) continue;
            for (int lane = 0; lane < 4; lane++) {
                size_t j = 4 * k + lane;
                if (!(far >> lane & 1) && j < nb && report(job, out, job->code.rec + i, slot + j) < 0) return -1;
            }
        }
    }
    return 0;
}
#endif

static int join(const Job *job, Pairs *out) {
    Scan scan = scan_scalar;
#ifdef HAVE_AVX2
    if (job->simd && __builtin_cpu_supports("avx2")) scan = scan_avx2;
#endif
    uint64_t *blocks = NULL;
    size_t cap = 0; /* words */
    for (int v = job->v0; v < job->v1; v++) {
        uint32_t qstart = job->query.off[v], qstop = job->query.off[v + 1];
        if (qstart == qstop) continue;
        size_t nb = qstop - qstart, need = 8 * ((nb + 3) / 4);
        if (need > cap) {
            uint64_t *grown = realloc(blocks, need * sizeof *grown);
            if (!grown) goto fail;
            blocks = grown;
            cap = need;
        }
        const Record *slot = job->query.rec + qstart;
        for (size_t j = 0; j < nb; j++) {
            blocks[8 * (j / 4) + j % 4] = slot[j].w[0];
            blocks[8 * (j / 4) + 4 + j % 4] = slot[j].w[1];
        }
        for (size_t j = nb; j % 4; j++) blocks[8 * (j / 4) + j % 4] = blocks[8 * (j / 4) + 4 + j % 4] = 0;
        for (Py_ssize_t m = 0; m < job->nmasks; m++) {
            unsigned u = (unsigned)v ^ job->masks[m];
            uint32_t i0 = job->code.off[u], i1 = job->code.off[u + 1];
            if (i0 < i1 && scan(job, out, i0, i1, blocks, nb, slot) < 0) goto fail;
        }
    }
    free(blocks);
    return 0;
fail:
    free(blocks);
    return -1;
}

static PyObject *py_join(PyObject *self, PyObject *args) {
    (void)self;
    Py_buffer b[7];
    int threshold, radius, t, v0, v1, simd = 1;
    if (!PyArg_ParseTuple(args, "y*y*y*y*y*y*iy*iiii|p", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5], &threshold, &b[6],
                          &radius, &t, &v0, &v1, &simd))
        return NULL;
    PyObject *result = NULL;
    const Py_ssize_t n = b[2].len / 32, nq = b[5].len / 32;
    /* each side: records, bounds, hashes */
    int ok = b[2].len % 32 == 0 && b[5].len % 32 == 0 && n <= UINT32_MAX && nq <= INT32_MAX;
    for (int s = 0; s < 2 && ok; s++) {
        Py_ssize_t m = s ? nq : n;
        ok = b[3 * s].len >= m * (Py_ssize_t)sizeof(Record) &&
             b[3 * s + 1].len == (BUCKETS + 1) * (Py_ssize_t)sizeof(uint32_t) &&
             ((const uint32_t *)b[3 * s + 1].buf)[BUCKETS] == (uint32_t)m;
    }
    if (!ok || threshold < 0 || threshold > 255 || radius < 0 || t < 0 || t >= CHUNKS || v0 < 0 || v1 > BUCKETS ||
        v0 > v1) {
        PyErr_SetString(PyExc_ValueError, "inconsistent join buffers, threshold, table or bucket range");
        goto done;
    }
    Job job = {{b[0].buf, b[1].buf, b[2].buf}, {b[3].buf, b[4].buf, b[5].buf},
               threshold, radius, t, v0, v1, simd, b[6].buf, b[6].len / (Py_ssize_t)sizeof(uint16_t)};
    Pairs out = {0};
    int rc;
    Py_BEGIN_ALLOW_THREADS
    rc = join(&job, &out);
    Py_END_ALLOW_THREADS
    if (rc < 0) {
        PyErr_NoMemory();
    } else {
        static const char none[1] = {0}; /* "y#" turns a NULL pointer into None */
        result = Py_BuildValue("y#y#", out.len ? (const char *)out.query : none,
                               (Py_ssize_t)(out.len * sizeof(int32_t)), out.len ? (const char *)out.pos : none,
                               (Py_ssize_t)(out.len * sizeof(uint32_t)));
    }
    free(out.query);
    free(out.pos);
done:
    for (int i = 0; i < 7; i++) PyBuffer_Release(&b[i]);
    return result;
}

static PyMethodDef methods[] = {
    {"partition", py_partition, METH_VARARGS,
     "partition(hashes, owner, t, records, bounds, scratch): by chunk t into records (24 bytes each), bounds"},
    {"join", py_join, METH_VARARGS,
     "join(code_records, code_bounds, codes, query_records, query_bounds, queries, threshold, masks, radius,"
     " t, v0, v1, simd=True) -> (query index int32, position uint32) bytes; simd=False: the portable loop"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_clusters", NULL, -1, methods, NULL, NULL, NULL, NULL};

PyMODINIT_FUNC PyInit__clusters(void) { return PyModule_Create(&module); }
