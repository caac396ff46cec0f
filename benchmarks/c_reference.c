/* nnviz's compiled training written in plain C with the layer sizes fixed at compile time: the "C, sizes fixed"
 * column of issue 13, built and timed by benchmarks/bench_c.py.
 *
 * The arithmetic is nnviz/core/kernels.py's for sgd with a constant learning rate and no L2, each sum in the same
 * order: _train_per_sample (batch 1), _train_batches (batch >= 2, unit-major buffers, the mean's 1/m in the output
 * delta) and evaluate_kernel; the update is v = beta*v + (1 - beta)*g, w -= lr*v. The loops are those a careful C
 * programmer would write for speed, chosen by measurement (bench_c.py): parameters and momenta copied into stack
 * arrays for the call (nothing can alias them), trip counts known at compile time, blocks' sums held in registers
 * for RT samples at a time, plain sgd without a velocity. Costs agree with nnviz's to rounding (fused
 * multiply-adds, libm's exp and expm1 against vecmath's), not bit for bit.
 *
 * Build (bench_c.py does this per network and variant):
 *   gcc -O3 -march=native -shared -fPIC -DNLAYERS=3 -DN0=2 -DN1=3 -DN2=4 -DN3=1 c_reference.c -o c.so -lm
 * NLAYERS is the number of weight layers (1 to 5), N0 the inputs, N<NLAYERS> = 1 the output; -DTANH=1 for tanh
 * hidden layers (relu otherwise). Parameters are nnviz's flat theta (network.Layout): layer l's W is an
 * (n_in, n_out) row-major block at offset O<l>, its b right after.
 * Variants (bench_c.VARIANTS try some): -DVEXP=1 for vecmath's exp in the sigmoid instead of libm's; -DVLOG=0 for
 * libm's log in the cost instead of vecmath's; -DPLAIN=0 to keep the velocity when beta = 0 (as nnviz does).
 * With beta = 0 (PLAIN) the step is w -= lr g, which is what v = 0 v + 1 g, w -= lr v computes, exactly; the
 * velocity is then neither read nor written (nnviz's holds the last gradient, which nothing reads while beta = 0).
 */

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#ifndef NLAYERS
#error "define NLAYERS (weight layers, 1 to 5) and N0 ... N<NLAYERS>"
#endif
#if NLAYERS < 1 || NLAYERS > 5
#error "NLAYERS must be from 1 to 5"
#endif
#ifndef TANH
#define TANH 0
#endif
#ifndef VEXP
#define VEXP 0 /* 1: vecmath's exp in the sigmoid (vectorisable, but a longer chain per sample than libm's) */
#endif
#ifndef VLOG
#define VLOG 1 /* 1: vecmath's log in the cost (vectorised), 0: libm's */
#endif
#ifndef PLAIN
#define PLAIN 1 /* 1: with beta = 0, the step w -= lr g (what v = 0 v + 1 g comes to exactly), no v kept */
#endif
#define RT 16 /* samples per tile of the blocks' sums */
/* Sizes of the layers a network does not have: 1, so every buffer below can be declared (and is optimised away). */
#ifndef N2
#define N2 1
#endif
#ifndef N3
#define N3 1
#endif
#ifndef N4
#define N4 1
#endif
#ifndef N5
#define N5 1
#endif

#define EPS 1e-8          /* network.EPS, the guard inside the cost's logarithms */
#define EVAL_CHUNK 256    /* kernels.EVAL_CHUNK: samples per block of the evaluation */
#define INLINE static inline __attribute__((always_inline))
#define UNROLL _Pragma("GCC unroll 32")
#define NOINLINE static __attribute__((noinline))

/* Where each layer's W starts in theta (network.Layout.offsets), and the parameters' count. */
#define O0 0
#define O1 (O0 + N0 * N1 + N1)
#define O2 (O1 + N1 * N2 + N2)
#define O3 (O2 + N2 * N3 + N3)
#define O4 (O3 + N3 * N4 + N4)
#define O5 (O4 + N4 * N5 + N5)
#if NLAYERS == 1
#define NPARAMS O1
#elif NLAYERS == 2
#define NPARAMS O2
#elif NLAYERS == 3
#define NPARAMS O3
#elif NLAYERS == 4
#define NPARAMS O4
#else
#define NPARAMS O5
#endif

/* The sizes this library was built for, read back by bench_c.py to check them against network.Layout. */
const long C_SHAPE[6] = {N0, N1, N2, N3, N4, N5};
const long C_OFFSETS[6] = {O0, O1, O2, O3, O4, O5};
const long C_NLAYERS = NLAYERS;

/* ---- exp and log (nnviz/core/vecmath.py) ---- */

#define LN2_HI 6.93147180369123816490e-01
#define LN2_LO 1.90821492927058770002e-10
#define INV_LN2 1.44269504088896338700e00
#define EXP_LOW (-708.3964185322641)
#define SQRT_HALF 0.7071067811865476

INLINE double bits_to_double(int64_t bits)
{
    double x;
    memcpy(&x, &bits, sizeof x);
    return x;
}

INLINE int64_t double_to_bits(double x)
{
    int64_t bits;
    memcpy(&bits, &x, sizeof bits);
    return bits;
}

INLINE double exp_nonpositive(double x)
{
    /* vecmath.exp_nonpositive: e^x = 2^k e^r, |r| <= ln2/2, the Taylor polynomial of degree 13 by Estrin's scheme;
     * branch-free (the result selected), so a loop calling it vectorises. */
    double k = floor(x * INV_LN2 + 0.5);
    double r = (x - k * LN2_HI) - k * LN2_LO;
    double r2 = r * r, r4 = r2 * r2, r8 = r4 * r4;
    double b0 = (1.0 / 2 + 1.0 / 6 * r) + (1.0 / 24 + 1.0 / 120 * r) * r2;
    double b1 = (1.0 / 720 + 1.0 / 5040 * r) + (1.0 / 40320 + 1.0 / 362880 * r) * r2;
    double b2 = (1.0 / 3628800 + 1.0 / 39916800 * r) + (1.0 / 479001600 + 1.0 / 6227020800 * r) * r2;
    double p = (b0 + b1 * r4) + b2 * r8;
    p = 1.0 + (r + r2 * p);
    double kk = x < EXP_LOW ? 0.0 : k; /* keeps the exponent's bits valid where the result is 0 */
    double e = p * bits_to_double(((int64_t)kk + 1023) << 52);
    return x < EXP_LOW ? 0.0 : e;
}

INLINE double log_positive(double x)
{
    /* vecmath.log_positive: ln x = e ln2 + 2 atanh(s), s = (m - 1)/(m + 1), m in [sqrt(1/2), sqrt(2)). */
    int64_t bits = double_to_bits(x);
    double m = bits_to_double((bits & 0x000FFFFFFFFFFFFF) | 0x3FF0000000000000);
    int high = m > 2.0 * SQRT_HALF;
    m = high ? m * 0.5 : m;
    double f = (double)((bits >> 52) - 1023) + (high ? 1.0 : 0.0);
    double s = (m - 1.0) / (m + 1.0), z = s * s;
    double q = 1.0 / 23.0;
    q = q * z + 1.0 / 21.0;
    q = q * z + 1.0 / 19.0;
    q = q * z + 1.0 / 17.0;
    q = q * z + 1.0 / 15.0;
    q = q * z + 1.0 / 13.0;
    q = q * z + 1.0 / 11.0;
    q = q * z + 1.0 / 9.0;
    q = q * z + 1.0 / 7.0;
    q = q * z + 1.0 / 5.0;
    q = q * z + 1.0 / 3.0;
    return f * LN2_HI + (2.0 * s + (2.0 * s * z * q + f * LN2_LO));
}

INLINE double cost_log(double x)
{
#if VLOG
    return log_positive(x);
#else
    return log(x);
#endif
}

/* ---- the network's functions (kernels.py) ---- */

INLINE double sigmoid(double z)
{
    /* kernels._sigmoid: the numerically stable form, exp never overflows; one division, its numerator selected. */
#if VEXP
    double e = exp_nonpositive(-fabs(z));
#else
    double e = exp(-fabs(z));
#endif
    return (z >= 0.0 ? 1.0 : e) / (1.0 + e);
}

INLINE double hidden(double z)
{
#if TANH
    /* kernels._tanh (vecmath.tanh): Cephes' rational function up to 0.625, (1 - e)/(1 + e) above, both computed
     * and one selected, so that loops through it vectorise. */
    double s = z * z;
    double small = z + z * s * (((-9.64399179425052238628e-1 * s - 9.92877231001918586564e1) * s
                                 - 1.61468768441708447952e3)
                                / (((s + 1.12811678491632931402e2) * s + 2.23548839060100448583e3) * s
                                   + 4.84406305325125486048e3));
#if VEXP
    double e = exp_nonpositive(-2.0 * fabs(z));
#else
    double e = exp(-2.0 * fabs(z));
#endif
    double large = (1.0 - e) / (1.0 + e);
    return copysign(fabs(z) > 0.625 ? large : small, z);
#else
    return z > 0.0 ? z : 0.0; /* max(z, 0.0) */
#endif
}

INLINE double hidden_derivative(double a)
{
    /* In terms of a = f(z): relu' = [a > 0], tanh' = 1 - a^2. */
#if TANH
    return 1.0 - a * a;
#else
    return a > 0.0 ? 1.0 : 0.0;
#endif
}

INLINE double output_delta(double p, double t)
{
    /* network.output_delta: dJ/dz = (p - t) q/(q + eps), q the probability of the true class. */
    double q = t * p + (1.0 - t) * (1.0 - p);
    return (p - t) * (q / (q + EPS));
}

INLINE void step(double *restrict w, double *restrict v, double g, double lr, double beta)
{
    /* sgd with EWMA momentum (optimizers.Momentum): v = beta v + (1 - beta) g; w -= lr v. */
#if PLAIN
    if (beta == 0.0) { /* v = g, never read again while beta stays 0 */
        *w -= lr * g;
        return;
    }
#endif
    double u = beta * *v + (1.0 - beta) * g;
    *v = u;
    *w -= lr * u;
}

/* ---- batch 1 (kernels._train_per_sample) ---- */

INLINE void forward_sample(int n_in, int n_out, const double *restrict W, const double *restrict a_in,
                           double *restrict a_out, int output)
{
    /* a_out = f(a_in W + b), each sum over j in order. As dot products (k outermost), which gcc vectorises across
     * k by transposing W's rows: measured faster per sample than j outermost with the sums in a_out. */
    const double *restrict b = W + n_in * n_out;
    for (int k = 0; k < n_out; k++) {
        double s = a_in[0] * W[k];
        for (int j = 1; j < n_in; j++)
            s += a_in[j] * W[j * n_out + k];
        a_out[k] = s;
    }
    for (int k = 0; k < n_out; k++)
        a_out[k] = output ? sigmoid(a_out[k] + b[k]) : hidden(a_out[k] + b[k]);
}

INLINE void backward_sample(int n_in, int n_out, double *restrict W, double *restrict V,
                            const double *restrict a_in, const double *restrict delta, double *restrict below,
                            int has_below, double lr, double beta)
{
    double *restrict b = W + n_in * n_out, *restrict vb = V + n_in * n_out;
    /* Row by row, propagating through W[j, :] and then stepping it: measured faster per sample than all of the
     * propagation first (with k outermost, so the sums advance side by side, or j outermost). */
    for (int j = 0; j < n_in; j++) {
        double aj = a_in[j];
        double *restrict w = W + j * n_out, *restrict v = V + j * n_out;
        if (has_below) {
            /* Propagate through W[j, :] before the step below changes it. */
            double s = delta[0] * w[0];
            for (int k = 1; k < n_out; k++)
                s += delta[k] * w[k];
            below[j] = s * hidden_derivative(aj);
        }
        for (int k = 0; k < n_out; k++)
            step(w + k, v + k, aj * delta[k], lr, beta);
    }
    for (int k = 0; k < n_out; k++)
        step(b + k, vb + k, delta[k], lr, beta);
}

#define FWD_SAMPLE(l, m) forward_sample(N##l, N##m, theta + O##l, A##l, A##m, (m) == NLAYERS)
#define BWD_SAMPLE(l, m) backward_sample(N##l, N##m, theta + O##l, velocity + O##l, A##l, D##m, D##l, (l) > 0, lr, beta)

NOINLINE void train_per_sample(double *restrict theta, double *restrict velocity, const double *restrict X,
                               const double *restrict y, long n, double lr, double beta)
{
    /* A<l>: layer l's outputs (A0 the inputs); D<l>: dJ/dz of layer l's units. */
    __attribute__((unused)) double A0[N0], A1[N1], A2[N2], A3[N3], A4[N4], A5[N5];
    __attribute__((unused)) double D0[N0], D1[N1], D2[N2], D3[N3], D4[N4], D5[N5];
    for (long i = 0; i < n; i++) {
        for (int j = 0; j < N0; j++)
            A0[j] = X[i * N0 + j];
        FWD_SAMPLE(0, 1);
#if NLAYERS >= 2
        FWD_SAMPLE(1, 2);
#endif
#if NLAYERS >= 3
        FWD_SAMPLE(2, 3);
#endif
#if NLAYERS >= 4
        FWD_SAMPLE(3, 4);
#endif
#if NLAYERS >= 5
        FWD_SAMPLE(4, 5);
#endif
#if NLAYERS == 1
        D1[0] = output_delta(A1[0], y[i]);
#elif NLAYERS == 2
        D2[0] = output_delta(A2[0], y[i]);
#elif NLAYERS == 3
        D3[0] = output_delta(A3[0], y[i]);
#elif NLAYERS == 4
        D4[0] = output_delta(A4[0], y[i]);
#else
        D5[0] = output_delta(A5[0], y[i]);
#endif
#if NLAYERS >= 5
        BWD_SAMPLE(4, 5);
#endif
#if NLAYERS >= 4
        BWD_SAMPLE(3, 4);
#endif
#if NLAYERS >= 3
        BWD_SAMPLE(2, 3);
#endif
#if NLAYERS >= 2
        BWD_SAMPLE(1, 2);
#endif
        BWD_SAMPLE(0, 1);
    }
}

/* ---- blocks of samples (kernels._forward_block, _train_batches, evaluate_kernel) ---- */

/* Buffers are unit-major: unit u's values for the block's samples are buf[u * stride + r], r < m <= stride. */
INLINE void forward_block(int n_in, int n_out, const double *restrict W, const double *restrict a_in,
                          double *restrict a_out, long m, long stride, int output)
{
    /* Vectorised along the samples r; each unit's sum over j in order. */
    const double *restrict b = W + n_in * n_out;
    for (int k = 0; k < n_out; k++) {
        double *restrict out = a_out + k * stride;
        double bias = b[k];
        long r = 0;
        /* RT samples at a time, their sums held in registers across all j (one load of each input, no stores
         * until the unit is done). */
        for (; r + RT <= m; r += RT) {
            double acc[RT];
            for (int i = 0; i < RT; i++)
                acc[i] = a_in[r + i] * W[k];
            UNROLL
            for (int j = 1; j < n_in; j++) {
                double w = W[j * n_out + k];
                const double *restrict src = a_in + j * stride + r;
                for (int i = 0; i < RT; i++)
                    acc[i] += src[i] * w;
            }
            if (output)
                for (int i = 0; i < RT; i++)
                    out[r + i] = sigmoid(acc[i] + bias);
            else
                for (int i = 0; i < RT; i++)
                    out[r + i] = hidden(acc[i] + bias);
        }
        long r0 = r;
        double w = W[k];
        const double *restrict src = a_in;
        for (r = r0; r < m; r++)
            out[r] = src[r] * w;
        for (int j = 1; j < n_in; j++) {
            w = W[j * n_out + k];
            src = a_in + j * stride;
            for (r = r0; r < m; r++)
                out[r] += src[r] * w;
        }
        if (output)
            for (r = r0; r < m; r++)
                out[r] = sigmoid(out[r] + bias);
        else
            for (r = r0; r < m; r++)
                out[r] = hidden(out[r] + bias);
    }
}

INLINE void backward_block(int n_in, int n_out, double *restrict W, double *restrict V, const double *restrict a_in,
                           const double *restrict delta, double *restrict below, int has_below, long m,
                           long stride, double lr, double beta, double *restrict dt)
{
    double *restrict b = W + n_in * n_out, *restrict vb = V + n_in * n_out;
    if (has_below) {
        /* kernels._propagate_block, with this layer's weights before the step changes them. */
        for (int j = 0; j < n_in; j++) {
            double *restrict bl = below + j * stride;
            const double *restrict w = W + j * n_out;
            const double *restrict a = a_in + j * stride;
            long r = 0;
            for (; r + RT <= m; r += RT) { /* as forward_block's tiles */
                double acc[RT];
                for (int i = 0; i < RT; i++)
                    acc[i] = delta[r + i] * w[0];
                UNROLL
                for (int k = 1; k < n_out; k++) {
                    const double *restrict d = delta + k * stride + r;
                    double wk = w[k];
                    for (int i = 0; i < RT; i++)
                        acc[i] += d[i] * wk;
                }
                for (int i = 0; i < RT; i++)
                    bl[r + i] = acc[i] * hidden_derivative(a[r + i]);
            }
            long r0 = r;
            for (r = r0; r < m; r++)
                bl[r] = delta[r] * w[0];
            for (int k = 1; k < n_out; k++) {
                const double *restrict d = delta + k * stride;
                double wk = w[k];
                for (r = r0; r < m; r++)
                    bl[r] += d[r] * wk;
            }
            for (r = r0; r < m; r++)
                bl[r] *= hidden_derivative(a[r]);
        }
    }
    /* The gradient sums, each over the block's samples in order from 0.0 as the kernel's (the same numbers), with
     * the loops turned around: sample r outermost, so the n_in * n_out sums advance side by side (vectorised over
     * k, no chain of dependent additions), the deltas first copied sample-major into dt. */
    double gw[n_in * n_out], gb[n_out];
    for (int k = 0; k < n_out; k++)
        for (long r = 0; r < m; r++)
            dt[r * n_out + k] = delta[k * stride + r];
    for (int i = 0; i < n_in * n_out; i++)
        gw[i] = 0.0;
    for (int k = 0; k < n_out; k++)
        gb[k] = 0.0;
    for (long r = 0; r < m; r++) {
        const double *restrict d = dt + r * n_out;
        for (int j = 0; j < n_in; j++) {
            double aj = a_in[j * stride + r];
            double *restrict g = gw + j * n_out;
            for (int k = 0; k < n_out; k++)
                g[k] += aj * d[k];
        }
        for (int k = 0; k < n_out; k++)
            gb[k] += d[k];
    }
    for (int i = 0; i < n_in * n_out; i++)
        step(W + i, V + i, gw[i], lr, beta);
    for (int k = 0; k < n_out; k++)
        step(b + k, vb + k, gb[k], lr, beta);
}

/* Unit offsets of each layer in the activation buffer (in units). */
#define U0 0
#define U1 (U0 + N0)
#define U2 (U1 + N1)
#define U3 (U2 + N2)
#define U4 (U3 + N3)
#define U5 (U4 + N4)
#define UNITS (U5 + N5)
#define MAX2(a, b) ((a) > (b) ? (a) : (b))
#define WIDEST MAX2(MAX2(MAX2(N0, N1), MAX2(N2, N3)), MAX2(N4, N5))

#define FWD_BLOCK(l, m_) forward_block(N##l, N##m_, theta + O##l, acts + U##l * stride, acts + U##m_ * stride, \
                                       m, stride, (m_) == NLAYERS)

INLINE void forward(const double *restrict theta, const double *restrict X, long start, long m,
                    double *restrict acts, long stride)
{
    for (int j = 0; j < N0; j++)
        for (long r = 0; r < m; r++)
            acts[j * stride + r] = X[(start + r) * N0 + j];
    FWD_BLOCK(0, 1);
#if NLAYERS >= 2
    FWD_BLOCK(1, 2);
#endif
#if NLAYERS >= 3
    FWD_BLOCK(2, 3);
#endif
#if NLAYERS >= 4
    FWD_BLOCK(3, 4);
#endif
#if NLAYERS >= 5
    FWD_BLOCK(4, 5);
#endif
}

/* Layer l's step: its delta in one buffer, the delta below written to the other (the kernel's swap). */
#define BWD_BLOCK(l, m_, d_in, d_out) backward_block(N##l, N##m_, theta + O##l, velocity + O##l, acts + U##l * stride, \
                                                     d_in, d_out, (l) > 0, m, stride, lr, beta, dt)
#if NLAYERS == 1
#define OUT_UNIT U1
#elif NLAYERS == 2
#define OUT_UNIT U2
#elif NLAYERS == 3
#define OUT_UNIT U3
#elif NLAYERS == 4
#define OUT_UNIT U4
#else
#define OUT_UNIT U5
#endif

NOINLINE void train_batches(double *restrict theta, double *restrict velocity, const double *restrict X,
                          const double *restrict y, long n, long stride, double lr, double beta,
                          double *restrict acts)
{
    /* stride: the batch size (at most n); acts: room for (UNITS + 3 WIDEST) * stride values: the activations, two
     * deltas, then the deltas sample-major (dt). */
    double *da = acts + UNITS * stride, *db = da + WIDEST * stride, *dt = db + WIDEST * stride;
    for (long start = 0; start < n; start += stride) {
        long m = n - start < stride ? n - start : stride;
        forward(theta, X, start, m, acts, stride);
        const double *p = acts + OUT_UNIT * stride;
        for (long r = 0; r < m; r++) /* the mean's 1/m goes into the output delta */
            da[r] = output_delta(p[r], y[start + r]) / (double)m;
        /* Deltas alternate between da and db from the output layer down. */
#if NLAYERS >= 5
        BWD_BLOCK(4, 5, da, db);
        { double *t = da; da = db; db = t; }
#endif
#if NLAYERS >= 4
        BWD_BLOCK(3, 4, da, db);
        { double *t = da; da = db; db = t; }
#endif
#if NLAYERS >= 3
        BWD_BLOCK(2, 3, da, db);
        { double *t = da; da = db; db = t; }
#endif
#if NLAYERS >= 2
        BWD_BLOCK(1, 2, da, db);
        { double *t = da; da = db; db = t; }
#endif
        BWD_BLOCK(0, 1, da, db);
    }
}

NOINLINE void evaluate(const double *restrict theta, const double *restrict X, const double *restrict y, long n,
                     double *restrict acts, double *restrict cost, double *restrict accuracy)
{
    long stride = n < EVAL_CHUNK ? n : EVAL_CHUNK;
    double total = 0.0, terms[EVAL_CHUNK];
    long correct = 0;
    for (long start = 0; start < n; start += stride) {
        long m = n - start < stride ? n - start : stride;
        forward(theta, X, start, m, acts, stride);
        const double *restrict p = acts + OUT_UNIT * stride;
        const double *restrict t = y + start;
        /* kernels.evaluate_kernel: for a 0/1 label one term of network.cost is exactly zero, so only the other's
         * logarithm is taken: the terms side by side, then summed in the samples' order. */
        for (long r = 0; r < m; r++) {
            double x = t[r] == 1.0 ? p[r] + EPS : 1.0 - p[r] + EPS;
            terms[r] = cost_log(x);
            correct += (p[r] > 0.5) == (t[r] > 0.5);
        }
        for (long r = 0; r < m; r++) {
            if (__builtin_expect(t[r] != 1.0 && t[r] != 0.0, 0))
                terms[r] = t[r] * cost_log(p[r] + EPS) + (1.0 - t[r]) * cost_log(1.0 - p[r] + EPS);
            total += terms[r];
        }
    }
    *cost = -(total / n);
    *accuracy = (double)correct / n;
}

/* Train `epochs` epochs in place on theta and velocity (nnviz's flat layout, velocity zero at the start of a run):
 * each epoch all steps over X (n, N0) and y (n,) in order, then cost and accuracy on (X, y) into costs[e] and
 * accuracies[e]. Returns 0, or -1 when memory runs out. */
int train(double *restrict theta_out, double *restrict velocity_out, const double *restrict X,
          const double *restrict y, long n, long batch, double lr, double beta, long epochs,
          double *restrict costs, double *restrict accuracies)
{
    if (n <= 0 || batch <= 0)
        return -1;
    long stride = batch < n ? batch : n, eval_stride = n < EVAL_CHUNK ? n : EVAL_CHUNK;
    long size = MAX2(UNITS * eval_stride, batch == 1 ? 0 : (UNITS + 3 * WIDEST) * stride);
    double *acts = malloc(sizeof(double) * size);
    if (!acts)
        return -1;
    /* The parameters and momenta live on the stack for the call: the compiler sees that nothing else writes them. */
    double theta[NPARAMS], velocity[NPARAMS];
    memcpy(theta, theta_out, sizeof theta);
    memcpy(velocity, velocity_out, sizeof velocity);
    for (long e = 0; e < epochs; e++) {
        if (batch == 1)
            train_per_sample(theta, velocity, X, y, n, lr, beta);
        else
            train_batches(theta, velocity, X, y, n, stride, lr, beta, acts);
        evaluate(theta, X, y, n, acts, costs + e, accuracies + e);
    }
    memcpy(theta_out, theta, sizeof theta);
    memcpy(velocity_out, velocity, sizeof velocity);
    free(acts);
    return 0;
}
