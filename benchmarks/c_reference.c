/* nnviz's compiled training written in plain C with the layer sizes fixed at compile time: the "C, sizes fixed"
 * column of issue 13, built and timed by benchmarks/bench_c.py.
 *
 * The arithmetic is nnviz/core/kernels.py's for sgd with a constant learning rate and no L2, in the same order:
 * _train_per_sample (batch 1), _train_batches (batch >= 2, unit-major buffers, the mean's 1/m in the output delta)
 * and evaluate_kernel; the update is v = beta*v + (1 - beta)*g, w -= lr*v. Only exp, expm1 and log are libm's
 * (the kernels use vecmath's, within 2 ulp), so costs agree to rounding, not bit for bit.
 *
 * Build (bench_c.py does this per network):
 *   gcc -O3 -march=native -shared -fPIC -DNLAYERS=3 -DN0=2 -DN1=3 -DN2=4 -DN3=1 c_reference.c -o c.so -lm
 * NLAYERS is the number of weight layers (1 to 5), N0 the inputs, N<NLAYERS> = 1 the output; -DTANH=1 for tanh
 * hidden layers (relu otherwise). Parameters are nnviz's flat theta (network.Layout): layer l's W is an
 * (n_in, n_out) row-major block at offset O<l>, its b right after.
 */

#include <math.h>
#include <stdlib.h>

#ifndef NLAYERS
#error "define NLAYERS (weight layers, 1 to 5) and N0 ... N<NLAYERS>"
#endif
#if NLAYERS < 1 || NLAYERS > 5
#error "NLAYERS must be from 1 to 5"
#endif
#ifndef TANH
#define TANH 0
#endif
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

/* Where each layer's W starts in theta (network.Layout.offsets). */
#define O0 0
#define O1 (O0 + N0 * N1 + N1)
#define O2 (O1 + N1 * N2 + N2)
#define O3 (O2 + N2 * N3 + N3)
#define O4 (O3 + N3 * N4 + N4)
#define O5 (O4 + N4 * N5 + N5)

/* The sizes this library was built for, read back by bench_c.py to check them against network.Layout. */
const long C_SHAPE[6] = {N0, N1, N2, N3, N4, N5};
const long C_OFFSETS[6] = {O0, O1, O2, O3, O4, O5};
const long C_NLAYERS = NLAYERS;

INLINE double sigmoid(double z)
{
    /* kernels._sigmoid: the numerically stable form, exp never overflows. */
    double e = exp(-fabs(z));
    return z >= 0.0 ? 1.0 / (1.0 + e) : e / (1.0 + e);
}

INLINE double hidden(double z)
{
#if TANH
    double e = expm1(-2.0 * fabs(z)); /* kernels._tanh */
    double t = -e / (2.0 + e);
    return z >= 0.0 ? t : -t;
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
    double u = beta * *v + (1.0 - beta) * g;
    *v = u;
    *w -= lr * u;
}

/* ---- batch 1 (kernels._train_per_sample) ---- */

INLINE void forward_sample(int n_in, int n_out, const double *restrict W, const double *restrict a_in,
                           double *restrict a_out, int output)
{
    const double *b = W + n_in * n_out;
    for (int k = 0; k < n_out; k++) {
        double s = a_in[0] * W[k];
        for (int j = 1; j < n_in; j++)
            s += a_in[j] * W[j * n_out + k];
        double z = s + b[k];
        a_out[k] = output ? sigmoid(z) : hidden(z);
    }
}

INLINE void backward_sample(int n_in, int n_out, double *restrict W, double *restrict V,
                            const double *restrict a_in, const double *restrict delta, double *restrict below,
                            int has_below, double lr, double beta)
{
    double *b = W + n_in * n_out, *vb = V + n_in * n_out;
    for (int j = 0; j < n_in; j++) {
        double *w = W + j * n_out, *v = V + j * n_out;
        double aj = a_in[j];
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

static void train_per_sample(double *restrict theta, double *restrict velocity, const double *restrict X,
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
    const double *b = W + n_in * n_out;
    for (int k = 0; k < n_out; k++) {
        double *out = a_out + k * stride;
        double w = W[k];
        const double *src = a_in;
        for (long r = 0; r < m; r++)
            out[r] = src[r] * w;
        for (int j = 1; j < n_in; j++) {
            w = W[j * n_out + k];
            src = a_in + j * stride;
            for (long r = 0; r < m; r++)
                out[r] += src[r] * w;
        }
        double bias = b[k];
        if (output)
            for (long r = 0; r < m; r++)
                out[r] = sigmoid(out[r] + bias);
        else
            for (long r = 0; r < m; r++)
                out[r] = hidden(out[r] + bias);
    }
}

INLINE void backward_block(int n_in, int n_out, double *restrict W, double *restrict V, const double *restrict a_in,
                           const double *restrict delta, double *restrict below, int has_below, long m,
                           long stride, double lr, double beta, double *restrict scratch)
{
    double *b = W + n_in * n_out, *vb = V + n_in * n_out;
    if (has_below) {
        /* kernels._propagate_block, with this layer's weights before the step changes them. */
        for (int j = 0; j < n_in; j++) {
            double *bl = below + j * stride;
            const double *w = W + j * n_out;
            for (long r = 0; r < m; r++)
                bl[r] = delta[r] * w[0];
            for (int k = 1; k < n_out; k++) {
                const double *d = delta + k * stride;
                double wk = w[k];
                for (long r = 0; r < m; r++)
                    bl[r] += d[r] * wk;
            }
            const double *a = a_in + j * stride;
            for (long r = 0; r < m; r++)
                bl[r] *= hidden_derivative(a[r]);
        }
    }
    /* The gradient sums, each over the block's samples in order from 0.0 as the kernel's (the same numbers), with
     * the loops turned around: sample r outermost, so the n_in * n_out sums advance side by side (vectorised over
     * k, no chain of dependent additions), the deltas first copied sample-major into scratch. */
    double *restrict gw = scratch, *restrict gb = scratch + n_in * n_out, *restrict dt = gb + n_out;
    for (int k = 0; k < n_out; k++)
        for (long r = 0; r < m; r++)
            dt[r * n_out + k] = delta[k * stride + r];
    for (int i = 0; i < n_in * n_out; i++)
        gw[i] = 0.0;
    for (int k = 0; k < n_out; k++)
        gb[k] = 0.0;
    for (long r = 0; r < m; r++) {
        const double *d = dt + r * n_out;
        for (int j = 0; j < n_in; j++) {
            double aj = a_in[j * stride + r];
            double *g = gw + j * n_out;
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

static void forward(const double *restrict theta, const double *restrict X, long start, long m, double *restrict acts,
                    long stride)
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
                                                     d_in, d_out, (l) > 0, m, stride, lr, beta, scratch)
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

static void train_batches(double *restrict theta, double *restrict velocity, const double *restrict X,
                          const double *restrict y, long n, long stride, double lr, double beta, double *restrict acts)
{
    /* stride: the batch size (at most n); acts: room for (UNITS + 3 WIDEST) * stride + WIDEST * (WIDEST + 1)
     * values: the activations, two deltas, then the scratch of backward_block. */
    double *da = acts + UNITS * stride, *db = da + WIDEST * stride, *scratch = db + WIDEST * stride;
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

static void evaluate(const double *restrict theta, const double *restrict X, const double *restrict y, long n,
                     double *restrict acts, double *restrict cost, double *restrict accuracy)
{
    long stride = n < EVAL_CHUNK ? n : EVAL_CHUNK;
    double total = 0.0;
    long correct = 0;
    for (long start = 0; start < n; start += stride) {
        long m = n - start < stride ? n - start : stride;
        forward(theta, X, start, m, acts, stride);
        const double *p = acts + OUT_UNIT * stride;
        for (long r = 0; r < m; r++) {
            double t = y[start + r];
            /* kernels.evaluate_kernel: for a 0/1 label one term of network.cost is exactly zero. */
            if (t == 1.0)
                total += log(p[r] + EPS);
            else if (t == 0.0)
                total += log(1.0 - p[r] + EPS);
            else
                total += t * log(p[r] + EPS) + (1.0 - t) * log(1.0 - p[r] + EPS);
            correct += (p[r] > 0.5) == (t > 0.5);
        }
    }
    *cost = -(total / n);
    *accuracy = (double)correct / n;
}

/* Train `epochs` epochs in place on theta and velocity (nnviz's flat layout, velocity zero at the start of a run):
 * each epoch all steps over X (n, N0) and y (n,) in order, then cost and accuracy on (X, y) into costs[e] and
 * accuracies[e]. Returns 0, or -1 when memory runs out. */
int train(double *restrict theta, double *restrict velocity, const double *restrict X, const double *restrict y,
          long n, long batch, double lr, double beta, long epochs, double *restrict costs,
          double *restrict accuracies)
{
    if (n <= 0 || batch <= 0)
        return -1;
    long stride = batch < n ? batch : n, eval_stride = n < EVAL_CHUNK ? n : EVAL_CHUNK;
    long size = MAX2(UNITS * eval_stride, batch == 1 ? 0 : (UNITS + 3 * WIDEST) * stride + WIDEST * (WIDEST + 1));
    double *acts = malloc(sizeof(double) * size);
    if (!acts)
        return -1;
    for (long e = 0; e < epochs; e++) {
        if (batch == 1)
            train_per_sample(theta, velocity, X, y, n, lr, beta);
        else
            train_batches(theta, velocity, X, y, n, stride, lr, beta, acts);
        evaluate(theta, X, y, n, acts, costs + e, accuracies + e);
    }
    free(acts);
    return 0;
}
