/*
 * One fused pass over sampled log-probabilities of shape (N, K, C): for every point the
 * entropy of the mean prediction, the mean entropy of the samples, and the check that
 * every row normalises, reading each input element once.
 *
 * This is the fast path of skal_power._kernels.entropy_terms; the torch and numpy kernels
 * there compute the same values and are used when this extension is not built.
 *
 * exp is computed here rather than by the C library so that the compiler can vectorise
 * the loop: Cody-Waite reduction x = k ln 2 + r (|r| <= ln 2 / 2), a polynomial for
 * e^r, and 2^k assembled in the exponent bits.
 *   float32: Cephes' degree-7 minimax polynomial (about 1 ulp, like torch's SLEEF exp);
 *   float64: the Taylor series to degree 13 (truncation < 5e-18 relative).
 * Inputs below the smallest normal exponent (-87 in float32, -708 in float64) give
 * p = 0 instead of a subnormal; the terms p log p they drop are below 1e-36 and 1e-305.
 * NaN propagates and +inf gives a huge p, so both fail the row check.
 *
 * The sums behind the entropies are accumulated in float64; the row sums that are only
 * checked against the 1e-3 tolerance stay in the input's precision. Threads are the
 * caller's: the GIL is released for the whole call.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <math.h>
#include <stdint.h>
#if defined(__x86_64__) || defined(_M_X64)
#include <xmmintrin.h>
/* flush subnormal results and inputs to zero (FTZ and DAZ bits of MXCSR) for one call:
 * arithmetic on subnormals takes ~100 cycles on x86 and q below FLT_MIN counts as FLT_MIN
 * in the joint kernel anyway */
#define SKAL_FLUSH_SUBNORMALS(saved) ((saved) = _mm_getcsr(), _mm_setcsr((saved) | 0x8040u))
#define SKAL_RESTORE_SUBNORMALS(saved) _mm_setcsr(saved)
#else
#define SKAL_FLUSH_SUBNORMALS(saved) ((saved) = 0u)
#define SKAL_RESTORE_SUBNORMALS(saved) ((void)(saved))
#endif
#include <stdlib.h>
#include <string.h>

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__GLIBC__)
/* one copy for AVX-512 machines, one for AVX2 + FMA, one for any x86-64, picked once at
 * load time (through an ifunc: glibc only) */
#define SKAL_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define SKAL_CLONES
#endif

#if defined(__GNUC__) && !defined(__clang__)
/* GCC keeps FP exceptions exact by default, which stops it from if-converting (and so
 * vectorising) the selects below; nothing here reads the FP exception flags. Clang's
 * default is already this. */
#pragma GCC optimize("no-trapping-math")
#endif

#if defined(_MSC_VER)
#define restrict __restrict
#define SKAL_INLINE static __forceinline
#else
#define SKAL_INLINE static inline __attribute__((always_inline))
#endif

#define LANES 8

/* Cephes' minimax polynomial for e^r on |r| <= ln 2 / 2, about 1 ulp in float32 */
static inline float poly_f32(float r)
{
    float y = 1.9875691500e-4f;
    y = y * r + 1.3981999507e-3f;
    y = y * r + 8.3334519073e-3f;
    y = y * r + 4.1665795894e-2f;
    y = y * r + 1.6666665459e-1f;
    y = y * r + 5.0000001201e-1f;
    return y * (r * r) + r + 1.0f;
}

/* Taylor series of e^r to degree 13: truncation below 5e-18 relative for |r| <= ln 2 / 2 */
static inline double poly_f64(double r)
{
    double y = 1.0 / 6227020800.0;
    y = y * r + 1.0 / 479001600.0;
    y = y * r + 1.0 / 39916800.0;
    y = y * r + 1.0 / 3628800.0;
    y = y * r + 1.0 / 362880.0;
    y = y * r + 1.0 / 40320.0;
    y = y * r + 1.0 / 5040.0;
    y = y * r + 1.0 / 720.0;
    y = y * r + 1.0 / 120.0;
    y = y * r + 1.0 / 24.0;
    y = y * r + 1.0 / 6.0;
    y = y * r + 0.5;
    return y * (r * r) + r + 1.0;
}

/* q log q for q >= 0 (0 for q below 1e-300, where it is below 1e-297), vectorisable:
 * q = 2**e * m with m in [sqrt(1/2), sqrt(2)), log m = 2 atanh(f), f = (m - 1) / (m + 1),
 * |f| <= 0.1716, series to f**23 (truncation below 1e-18). */
static inline double xlogx(double q)
{
    const double ln2_hi = 6.93147180369123816490e-01, ln2_lo = 1.90821492927058770002e-10;
    double safe = q < 1e-300 ? 1.0 : q;
    uint64_t bits;
    memcpy(&bits, &safe, sizeof bits);
    uint64_t exponent_bits = (bits >> 52) | 0x4330000000000000ull; /* 2**52 + biased e */
    uint64_t mantissa_bits = (bits & 0x000fffffffffffffull) | 0x3ff0000000000000ull;
    double biased, m;
    memcpy(&biased, &exponent_bits, sizeof biased);
    memcpy(&m, &mantissa_bits, sizeof m);
    double e = biased - (4503599627370496.0 + 1023.0);
    int big = m > 1.41421356237309504880;
    m = big ? 0.5 * m : m;
    e = big ? e + 1.0 : e;
    double f = (m - 1.0) / (m + 1.0), s = f * f;
    double y = 1.0 / 23.0;
    y = y * s + 1.0 / 21.0;
    y = y * s + 1.0 / 19.0;
    y = y * s + 1.0 / 17.0;
    y = y * s + 1.0 / 15.0;
    y = y * s + 1.0 / 13.0;
    y = y * s + 1.0 / 11.0;
    y = y * s + 1.0 / 9.0;
    y = y * s + 1.0 / 7.0;
    y = y * s + 1.0 / 5.0;
    y = y * s + 1.0 / 3.0;
    double log_m = 2.0 * f + 2.0 * f * s * y;
    double log_q = e * ln2_hi + (log_m + e * ln2_lo);
    return q < 1e-300 ? 0.0 : q * log_q;
}

/* Sums over classes of each row, checked against [low, high] (NaN fails); in the input's
 * precision, ample for a 1e-3 tolerance. Returns 0 when a row does not normalise.
 * Inlined with a constant `c_count` for the common class counts. */
#define ROWS_NORMALISE(T)                                                                  \
    SKAL_INLINE int rows_normalise_##T(                                                    \
        const T *restrict p, Py_ssize_t k_count, Py_ssize_t c_count, T low, T high)        \
    {                                                                                      \
        int ok = 1;                                                                        \
        for (Py_ssize_t k = 0; k < k_count; ++k) {                                         \
            const T *row = p + k * c_count;                                                \
            T s = 0;                                                                       \
            for (Py_ssize_t c = 0; c < c_count; ++c) s += row[c];                          \
            ok &= (s >= low) & (s <= high);                                                \
        }                                                                                  \
        return ok;                                                                         \
    }

ROWS_NORMALISE(float)
ROWS_NORMALISE(double)

/* One block of points: p = exp(x) over the whole block (branch-free, so it vectorises),
 * then per point the sum of p x over its K*C values (float64, LANES partial sums), the
 * row sums over classes (checked against [low, high]; NaN fails), the sums over samples
 * (into `mean`, float64) and last the entropy of the mean for the whole block.
 * Returns the first point whose rows do not all normalise, or -1. */
#define BLOCK_KERNEL(NAME, T, LOG2E, LN2_HI, LN2_LO, ROUND, LOW, HIGH, UINT, BIAS, SHIFT,  \
                     POLY)                                                                 \
    SKAL_CLONES                                                                            \
    static Py_ssize_t NAME(const T *restrict x, T *restrict p, T *restrict q,              \
                           double *restrict mean,                                          \
                           double *restrict acc, Py_ssize_t period, Py_ssize_t points,     \
                           Py_ssize_t k_count, Py_ssize_t c_count, T low, T high,          \
                           double *restrict predictive, double *restrict expected)         \
    {                                                                                      \
        Py_ssize_t m = k_count * c_count, total = points * m;                              \
        for (Py_ssize_t j = 0; j < total; ++j) {                                           \
            T v = x[j];                                                                    \
            T c = v < LOW ? LOW : v;                                                       \
            c = c > HIGH ? HIGH : c; /* NaN stays NaN */                                   \
            T shifted = c * LOG2E + ROUND;                                                 \
            T k = shifted - ROUND;                                                         \
            UINT bits;                                                                     \
            memcpy(&bits, &shifted, sizeof bits);                                          \
            bits = (bits + BIAS) << SHIFT; /* the low bits of `shifted` hold k: 2**k */    \
            T scale;                                                                       \
            memcpy(&scale, &bits, sizeof scale);                                           \
            T r = (c - k * LN2_HI) - k * LN2_LO;                                           \
            T y = POLY(r) * scale;                                                         \
            T e = v < LOW ? (T)0 : y;                                                      \
            p[j] = e;                                                                      \
            q[j] = e * c; /* p log p, 0 for p = 0 */                                       \
        }                                                                                  \
        double inv_k = 1.0 / (double)k_count;                                              \
        for (Py_ssize_t i = 0; i < points; ++i) {                                          \
            const T *pi = p + i * m, *qi = q + i * m;                                      \
            double lanes[LANES] = {0}, terms = 0.0;                                        \
            Py_ssize_t j = 0;                                                              \
            for (; j + LANES <= m; j += LANES)                                             \
                for (int l = 0; l < LANES; ++l) lanes[l] += (double)qi[j + l];             \
            for (; j < m; ++j) terms += (double)qi[j];                                     \
            for (int l = 0; l < LANES; ++l) terms += lanes[l];                             \
            expected[i] = -terms * inv_k;                                                  \
            /* sums over samples: element j belongs to class j % C, so `period` (a multiple \
             * of C) accumulators take whole vectors and then fold into the C classes */   \
            for (Py_ssize_t u = 0; u < period; ++u) acc[u] = 0.0;                          \
            Py_ssize_t t = 0;                                                              \
            for (; t + period <= m; t += period)                                           \
                for (Py_ssize_t u = 0; u < period; ++u) acc[u] += (double)pi[t + u];       \
            for (Py_ssize_t u = 0; t + u < m; ++u) acc[u] += (double)pi[t + u];            \
            double *mi = mean + i * c_count;                                               \
            for (Py_ssize_t c = 0; c < c_count; ++c) mi[c] = acc[c];                       \
            for (Py_ssize_t u = c_count; u < period; u += c_count)                         \
                for (Py_ssize_t c = 0; c < c_count; ++c) mi[c] += acc[u + c];              \
            int ok;                                                                        \
            switch (c_count) { /* constant C: the compiler unrolls the sums over classes */\
            case 2: ok = rows_normalise_##T(pi, k_count, 2, low, high); break;             \
            case 3: ok = rows_normalise_##T(pi, k_count, 3, low, high); break;             \
            case 4: ok = rows_normalise_##T(pi, k_count, 4, low, high); break;             \
            case 5: ok = rows_normalise_##T(pi, k_count, 5, low, high); break;             \
            case 10: ok = rows_normalise_##T(pi, k_count, 10, low, high); break;           \
            default: ok = rows_normalise_##T(pi, k_count, c_count, low, high);             \
            }                                                                              \
            if (!ok) return i;                                                             \
        }                                                                                  \
        Py_ssize_t classes = points * c_count;                                             \
        for (Py_ssize_t j = 0; j < classes; ++j) mean[j] = xlogx(mean[j] * inv_k);         \
        for (Py_ssize_t i = 0; i < points; ++i) {                                          \
            double h = 0.0;                                                                \
            for (Py_ssize_t c = 0; c < c_count; ++c) h += mean[i * c_count + c];           \
            predictive[i] = -h;                                                            \
        }                                                                                  \
        return -1;                                                                         \
    }

/* float32: below -87 (e^-87 = 1.6e-38) p = 0; above 88 clamped (still fails the check) */
BLOCK_KERNEL(block_f32, float, 1.44269504088896341f, 0.693359375f, -2.12194440e-4f,
             12582912.0f /* 1.5 * 2**23 */, -87.0f, 88.0f, uint32_t, 127u, 23, poly_f32)
/* float64: below -708 p = 0; above 709 clamped */
BLOCK_KERNEL(block_f64, double, 1.44269504088896338700e+00, 6.93147180369123816490e-01,
             1.90821492927058770002e-10, 6755399441055744.0 /* 1.5 * 2**52 */, -708.0,
             709.0, uint64_t, 1023u, 52, poly_f64)

/* Accumulators for the sums over samples: a multiple of C that is a whole number of
 * 8-wide vectors when C is small, C itself otherwise. */
static Py_ssize_t class_period(Py_ssize_t c_count)
{
    if (c_count < 1) return 1;
    if (c_count > 64) return c_count;
    Py_ssize_t a = c_count, b = LANES;
    while (b) { Py_ssize_t r = a % b; a = b; b = r; }
    return c_count / a * LANES;
}

/* Points per block: input and probabilities of a block stay in the L1/L2 cache. */
static Py_ssize_t block_points(Py_ssize_t m, Py_ssize_t item)
{
    Py_ssize_t points = (16384 / item) / (m > 0 ? m : 1);
    return points > 0 ? points : 1;
}

/* ---- module ------------------------------------------------------------------------- */

static int get_output(PyObject *obj, Py_buffer *view, Py_ssize_t n, const char *what)
{
    if (PyObject_GetBuffer(obj, view, PyBUF_WRITABLE | PyBUF_C_CONTIGUOUS | PyBUF_FORMAT) < 0)
        return -1;
    if (strcmp(view->format, "d") != 0 || view->len != n * (Py_ssize_t)sizeof(double)) {
        PyErr_Format(PyExc_ValueError, "%s must be a float64 buffer of %zd items", what, n);
        PyBuffer_Release(view);
        return -1;
    }
    return 0;
}

PyDoc_STRVAR(entropy_terms_doc,
"entropy_terms(log_probs, predictive, expected, low, high) -> int\n\n"
"Fill ``predictive`` with H[mean_k p] and ``expected`` with mean_k H[p_k] (nats) for\n"
"C-contiguous float32 or float64 ``log_probs`` of shape (N, K, C). Rows whose sum of\n"
"probabilities lies outside [low, high] (NaN included) stop the pass: the return value\n"
"is the first such point, or -1 when every row normalises. The GIL is released.");

static PyObject *py_entropy_terms(PyObject *self, PyObject *args)
{
    (void)self;
    PyObject *source, *pred_obj, *exp_obj;
    double low, high;
    if (!PyArg_ParseTuple(args, "OOOdd", &source, &pred_obj, &exp_obj, &low, &high))
        return NULL;
    Py_buffer in, pred, expc;
    if (PyObject_GetBuffer(source, &in, PyBUF_C_CONTIGUOUS | PyBUF_FORMAT) < 0) return NULL;
    int is_float = strcmp(in.format, "f") == 0;
    if ((!is_float && strcmp(in.format, "d") != 0) || in.ndim != 3) {
        PyErr_SetString(PyExc_ValueError,
                        "log_probs must be a C-contiguous float32 or float64 (N, K, C) buffer");
        PyBuffer_Release(&in);
        return NULL;
    }
    Py_ssize_t n = in.shape[0], k_count = in.shape[1], c_count = in.shape[2];
    if (get_output(pred_obj, &pred, n, "predictive") < 0) {
        PyBuffer_Release(&in);
        return NULL;
    }
    if (get_output(exp_obj, &expc, n, "expected") < 0) {
        PyBuffer_Release(&in);
        PyBuffer_Release(&pred);
        return NULL;
    }
    Py_ssize_t m = k_count * c_count, item = is_float ? sizeof(float) : sizeof(double);
    Py_ssize_t block = block_points(m, item);
    void *scratch = malloc(2 * (size_t)(block * (m > 0 ? m : 1)) * item);
    double *mean = malloc((size_t)(block * (c_count > 0 ? c_count : 1)) * sizeof(double));
    Py_ssize_t period = class_period(c_count);
    double *acc = malloc((size_t)period * sizeof(double));
    Py_ssize_t bad = -1;
    if (scratch != NULL && mean != NULL && acc != NULL && k_count > 0) {
        double *predictive = pred.buf, *expected = expc.buf;
        Py_BEGIN_ALLOW_THREADS
        for (Py_ssize_t start = 0; start < n && bad < 0; start += block) {
            Py_ssize_t points = n - start < block ? n - start : block, at;
            if (is_float)
                at = block_f32((const float *)in.buf + start * m, scratch,
                               (float *)scratch + block * m, mean, acc, period,
                               points, k_count, c_count, (float)low, (float)high,
                               predictive + start, expected + start);
            else
                at = block_f64((const double *)in.buf + start * m, scratch,
                               (double *)scratch + block * m, mean, acc, period,
                               points, k_count, c_count, low, high, predictive + start,
                               expected + start);
            if (at >= 0) bad = start + at;
        }
        Py_END_ALLOW_THREADS
    }
    free(scratch);
    free(mean);
    free(acc);
    PyBuffer_Release(&in);
    PyBuffer_Release(&pred);
    PyBuffer_Release(&expc);
    if (scratch == NULL || mean == NULL || acc == NULL) return PyErr_NoMemory();
    return PyLong_FromSsize_t(bad);
}

/* ---- fused joint entropies: Σ_s q log q over q = scale · Σ_k T[k, s] V[k, j] ------------ */

#if defined(__GNUC__)
#define SKAL_HAVE_JOINT 1
/* the helpers below take and return 8-lane vectors; they are always inlined, so the
 * calling convention GCC warns about for the non-AVX clone never applies */
#pragma GCC diagnostic ignored "-Wpsabi"
/* 16 float32 lanes in GCC/Clang vector extensions: one AVX-512 register in the x86-64-v4
 * clone, two AVX2 registers in the v3 clone, four SSE (or NEON) registers elsewhere */
typedef float v16f __attribute__((vector_size(64)));
typedef int32_t v16i __attribute__((vector_size(64)));
#define B16(x) ((v16f){(x), (x), (x), (x), (x), (x), (x), (x), (x), (x), (x), (x), (x), (x), (x), (x)})
#define I16(x) ((v16i){(x), (x), (x), (x), (x), (x), (x), (x), (x), (x), (x), (x), (x), (x), (x), (x)})

SKAL_INLINE v16f select16(v16i mask, v16f yes, v16f no)
{
    return (v16f)(((v16i)yes & mask) | ((v16i)no & ~mask));
}

/* q log q in float32 for q >= 0, 16 lanes. q below FLT_MIN counts as FLT_MIN (the term is
 * then above -1.1e-36 instead of 0). q = 2**e m, m in [sqrt(1/2), sqrt(2)),
 * log m = 2 atanh(f), f = (m - 1) / (m + 1), |f| <= 0.1716: the series to f**9 leaves a
 * truncation below 7e-10; the float32 operations add at most 8 u |log q| (u = 2**-24):
 * f to 2u, the series to 3u, e ln 2 + log m to 2u with at most a factor 2 of cancellation,
 * since |log m| <= |e ln 2| / 2 whenever e != 0. */
SKAL_INLINE v16f xlogx16(v16f q)
{
    v16f safe = select16(q < B16(1.17549435e-38f), B16(1.17549435e-38f), q); /* NaN stays */
    v16i bits = (v16i)safe;
    v16i e = ((bits >> 23) & I16(0xff)) - I16(127);
    v16f m = (v16f)((bits & I16(0x007fffff)) | I16(0x3f800000)); /* [1, 2) */
    v16i big = m > B16(1.41421356f);
    m = select16(big, m * B16(0.5f), m);
    e = e - big; /* big is -1 where true */
    v16f ef = __builtin_convertvector(e, v16f);
    v16f f = (m - B16(1.0f)) / (m + B16(1.0f)), s = f * f;
    v16f y = B16(2.0f / 9.0f);
    y = y * s + B16(2.0f / 7.0f);
    y = y * s + B16(2.0f / 5.0f);
    y = y * s + B16(2.0f / 3.0f);
    v16f log_m = f * B16(2.0f) + f * s * y;
    /* ln 2 = 0.693359375 - 2.12194440e-4: e * 0.693359375 is exact for |e| < 2**15 */
    v16f log_q = ef * B16(0.693359375f) + (log_m + ef * B16(-2.12194440e-4f));
    return safe * log_q;
}

/* Column block: 4 columns share every load of the table; 32 configurations per step. */
#define JOINT_COLUMNS 4
/* Most configurations per tile: 16 float32 lanes then sum at most 64 terms each. */
#define JOINT_MAX_TILE 1024

SKAL_CLONES
static void joint_plogp(const float *restrict table, Py_ssize_t k_count, Py_ssize_t width,
                        const float *restrict columns, Py_ssize_t n_columns, float scale,
                        float *restrict buffer, double *restrict out)
{
    /* a tile of the table (k_count x tile floats) stays in the L1 cache */
    Py_ssize_t tile = (Py_ssize_t)(32768 / (4 * (k_count > 0 ? k_count : 1))) & ~(Py_ssize_t)31;
    tile = tile < 32 ? 32 : tile > JOINT_MAX_TILE ? JOINT_MAX_TILE : tile;
    for (Py_ssize_t j = 0; j < n_columns; ++j) out[j] = 0.0;
    v16f sc = B16(scale);
    for (Py_ssize_t s0 = 0; s0 < width; s0 += tile) {
        Py_ssize_t s1 = s0 + tile < width ? s0 + tile : width;
        for (Py_ssize_t j = 0; j < n_columns; j += JOINT_COLUMNS) {
            Py_ssize_t used = n_columns - j < JOINT_COLUMNS ? n_columns - j : JOINT_COLUMNS;
            /* this block's column values, k-major, zero-padded to JOINT_COLUMNS */
            for (Py_ssize_t k = 0; k < k_count; ++k)
                for (Py_ssize_t i = 0; i < JOINT_COLUMNS; ++i)
                    buffer[k * JOINT_COLUMNS + i] =
                        i < used ? columns[k * n_columns + j + i] : 0.0f;
            v16f sum[JOINT_COLUMNS] = {B16(0.0f), B16(0.0f), B16(0.0f), B16(0.0f)};
            for (Py_ssize_t s = s0; s < s1; s += 32) {
                v16f lo[JOINT_COLUMNS] = {B16(0.0f), B16(0.0f), B16(0.0f), B16(0.0f)};
                v16f hi[JOINT_COLUMNS] = {B16(0.0f), B16(0.0f), B16(0.0f), B16(0.0f)};
                for (Py_ssize_t k = 0; k < k_count; ++k) {
                    v16f t_lo, t_hi;
                    memcpy(&t_lo, table + k * width + s, sizeof t_lo);
                    memcpy(&t_hi, table + k * width + s + 16, sizeof t_hi);
                    const float *v = buffer + k * JOINT_COLUMNS;
                    for (int i = 0; i < JOINT_COLUMNS; ++i) {
                        v16f b = B16(v[i]);
                        lo[i] += t_lo * b;
                        hi[i] += t_hi * b;
                    }
                }
                for (int i = 0; i < JOINT_COLUMNS; ++i)
                    sum[i] += xlogx16(lo[i] * sc) + xlogx16(hi[i] * sc);
            }
            for (Py_ssize_t i = 0; i < used; ++i) {
                double total = 0.0;
                for (int l = 0; l < 16; ++l) total += (double)sum[i][l];
                out[j + i] += total;
            }
        }
    }
}
#endif

#ifdef SKAL_HAVE_JOINT
PyDoc_STRVAR(joint_plogp_doc,
"joint_plogp(table, columns, out, scale) -> None\n\n"
"Fill ``out[j]`` with sum_s q log q over q = scale * sum_k table[k, s] * columns[k, j], for\n"
"C-contiguous float32 ``table`` (K, W) with W a multiple of 32 and ``columns`` (K, J),\n"
"and a float64 ``out`` of J items. The products and the q log q are float32 (q below\n"
"FLT_MIN counts as FLT_MIN), summed in float32 over at most 64 terms, then in float64.\n"
"Subnormals are flushed to zero during the call (x86), then the caller's setting is\n"
"restored. The GIL is released.");

static int get_matrix32(PyObject *obj, Py_buffer *view, const char *what)
{
    if (PyObject_GetBuffer(obj, view, PyBUF_C_CONTIGUOUS | PyBUF_FORMAT) < 0) return -1;
    if (strcmp(view->format, "f") != 0 || view->ndim != 2) {
        PyErr_Format(PyExc_ValueError, "%s must be a C-contiguous float32 matrix", what);
        PyBuffer_Release(view);
        return -1;
    }
    return 0;
}

static PyObject *py_joint_plogp(PyObject *self, PyObject *args)
{
    (void)self;
    PyObject *table_obj, *columns_obj, *out_obj;
    double scale;
    if (!PyArg_ParseTuple(args, "OOOd", &table_obj, &columns_obj, &out_obj, &scale))
        return NULL;
    Py_buffer table, columns, out;
    if (get_matrix32(table_obj, &table, "table") < 0) return NULL;
    if (get_matrix32(columns_obj, &columns, "columns") < 0) {
        PyBuffer_Release(&table);
        return NULL;
    }
    Py_ssize_t k_count = table.shape[0], width = table.shape[1], n_columns = columns.shape[1];
    int bad = columns.shape[0] != k_count || width % 32 != 0;
    if (bad) {
        PyErr_SetString(PyExc_ValueError, "table and columns need the same number of rows, "
                                          "and the table's width must be a multiple of 32");
    } else if (get_output(out_obj, &out, n_columns, "out") < 0) {
        bad = 1;
    }
    if (bad) {
        PyBuffer_Release(&table);
        PyBuffer_Release(&columns);
        return NULL;
    }
    float *buffer = malloc((size_t)(k_count > 0 ? k_count : 1) * JOINT_COLUMNS * sizeof(float));
    if (buffer != NULL) {
        Py_BEGIN_ALLOW_THREADS
        unsigned int saved;
        SKAL_FLUSH_SUBNORMALS(saved);
        joint_plogp(table.buf, k_count, width, columns.buf, n_columns, (float)scale, buffer,
                    out.buf);
        SKAL_RESTORE_SUBNORMALS(saved);
        Py_END_ALLOW_THREADS
    }
    free(buffer);
    PyBuffer_Release(&table);
    PyBuffer_Release(&columns);
    PyBuffer_Release(&out);
    if (buffer == NULL) return PyErr_NoMemory();
    Py_RETURN_NONE;
}

/* ---- sparse mixtures: Σ_s q log q over q = Σ_e w[e] V[k[e], j] for each row s ---------- */

/* Columns per block: 4 vectors of 16; the block's slice of every row of V stays in L1. */
#define MIXTURE_COLUMNS 64
/* Configurations summed in float32 before each float64 flush. */
#define MIXTURE_FLUSH 64

SKAL_CLONES
static void mixture_plogp(const int64_t *restrict indptr, const int32_t *restrict rows,
                          const float *restrict weights, Py_ssize_t n_configs,
                          const float *restrict columns, Py_ssize_t n_columns,
                          double *restrict out)
{
    for (Py_ssize_t j = 0; j < n_columns; ++j) out[j] = 0.0;
    for (Py_ssize_t j = 0; j < n_columns; j += MIXTURE_COLUMNS) {
        v16f sum[4] = {B16(0.0f), B16(0.0f), B16(0.0f), B16(0.0f)};
        int pending = 0;
        for (Py_ssize_t s = 0; s < n_configs; ++s) {
            v16f q[4] = {B16(0.0f), B16(0.0f), B16(0.0f), B16(0.0f)};
            for (int64_t e = indptr[s]; e < indptr[s + 1]; ++e) {
                const float *row = columns + (Py_ssize_t)rows[e] * n_columns + j;
                v16f w = B16(weights[e]);
                for (int i = 0; i < 4; ++i) {
                    v16f v;
                    memcpy(&v, row + 16 * i, sizeof v);
                    q[i] += w * v;
                }
            }
            for (int i = 0; i < 4; ++i) sum[i] += xlogx16(q[i]);
            if (++pending == MIXTURE_FLUSH || s + 1 == n_configs) {
                for (int i = 0; i < 4; ++i) {
                    for (int l = 0; l < 16; ++l) out[j + 16 * i + l] += (double)sum[i][l];
                    sum[i] = B16(0.0f);
                }
                pending = 0;
            }
        }
    }
}

PyDoc_STRVAR(mixture_plogp_doc,
"mixture_plogp(indptr, rows, weights, columns, out) -> None\n\n"
"Fill ``out[j]`` with sum_s q log q over q = sum_e weights[e] * columns[rows[e], j], the\n"
"entries e of configuration s being indptr[s] <= e < indptr[s + 1] (a CSR matrix of\n"
"mixture weights: int64 ``indptr``, int32 ``rows``, float32 ``weights``), for a\n"
"C-contiguous float32 ``columns`` (K, J) with J a multiple of 64 and a float64 ``out`` of\n"
"J items. Float32 products and q log q as in joint_plogp (q below FLT_MIN counts as\n"
"FLT_MIN, subnormals flushed during the call), summed in float32 over 64\n"
"configurations, then in float64. Row indices are not checked: they must lie in\n"
"[0, K). The GIL is released.");

static int get_vector(PyObject *obj, Py_buffer *view, const char *format, const char *what)
{
    if (PyObject_GetBuffer(obj, view, PyBUF_C_CONTIGUOUS | PyBUF_FORMAT) < 0) return -1;
    /* numpy writes int64 as "l" on LP64 and "q" elsewhere; accept either for 8 bytes */
    int same = strcmp(view->format, format) == 0 ||
               (format[0] == 'q' && strcmp(view->format, "l") == 0 && view->itemsize == 8) ||
               (format[0] == 'i' && strcmp(view->format, "l") == 0 && view->itemsize == 4);
    if (!same || view->ndim != 1) {
        PyErr_Format(PyExc_ValueError, "%s must be a C-contiguous 1-D buffer of format '%s'",
                     what, format);
        PyBuffer_Release(view);
        return -1;
    }
    return 0;
}

static PyObject *py_mixture_plogp(PyObject *self, PyObject *args)
{
    (void)self;
    PyObject *indptr_obj, *rows_obj, *weights_obj, *columns_obj, *out_obj;
    if (!PyArg_ParseTuple(args, "OOOOO", &indptr_obj, &rows_obj, &weights_obj, &columns_obj,
                          &out_obj))
        return NULL;
    Py_buffer indptr, rows, weights, columns, out;
    if (get_vector(indptr_obj, &indptr, "q", "indptr") < 0) return NULL;
    if (get_vector(rows_obj, &rows, "i", "rows") < 0) {
        PyBuffer_Release(&indptr);
        return NULL;
    }
    if (get_vector(weights_obj, &weights, "f", "weights") < 0) {
        PyBuffer_Release(&indptr);
        PyBuffer_Release(&rows);
        return NULL;
    }
    if (get_matrix32(columns_obj, &columns, "columns") < 0) {
        PyBuffer_Release(&indptr);
        PyBuffer_Release(&rows);
        PyBuffer_Release(&weights);
        return NULL;
    }
    Py_ssize_t n_configs = indptr.shape[0] - 1, n_columns = columns.shape[1];
    const int64_t *ptr = indptr.buf;
    int bad = n_configs < 0 || n_columns % MIXTURE_COLUMNS != 0 ||
              rows.shape[0] != weights.shape[0] ||
              (n_configs >= 0 && (ptr[0] != 0 || ptr[n_configs] != rows.shape[0]));
    if (bad) {
        PyErr_SetString(PyExc_ValueError, "mixture_plogp: indptr must run from 0 to the "
                                          "number of entries, rows and weights must have one "
                                          "item per entry, and the columns' count must be a "
                                          "multiple of 64");
    } else if (get_output(out_obj, &out, n_columns, "out") < 0) {
        bad = 1;
    }
    if (!bad) {
        Py_BEGIN_ALLOW_THREADS
        unsigned int saved;
        SKAL_FLUSH_SUBNORMALS(saved);
        mixture_plogp(ptr, rows.buf, weights.buf, n_configs, columns.buf, n_columns, out.buf);
        SKAL_RESTORE_SUBNORMALS(saved);
        Py_END_ALLOW_THREADS
        PyBuffer_Release(&out);
    }
    PyBuffer_Release(&indptr);
    PyBuffer_Release(&rows);
    PyBuffer_Release(&weights);
    PyBuffer_Release(&columns);
    if (bad) return NULL;
    Py_RETURN_NONE;
}

#endif /* SKAL_HAVE_JOINT */

static PyMethodDef methods[] = {
    {"entropy_terms", py_entropy_terms, METH_VARARGS, entropy_terms_doc},
#ifdef SKAL_HAVE_JOINT /* GCC or Clang: without vector types the batch scores use torch */
    {"joint_plogp", py_joint_plogp, METH_VARARGS, joint_plogp_doc},
    {"mixture_plogp", py_mixture_plogp, METH_VARARGS, mixture_plogp_doc},
#endif
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_native",
    "Fused per-point entropies of sampled log-probabilities (see skal_power._kernels).", -1,
    methods, NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit__native(void) { return PyModule_Create(&module); }
