/* resize.c - PIL-compatible resampling of one image channel (see include/hsweep/data.h).
 *
 * Both entry points reproduce Pillow's Image.resize (src/libImaging/Resample.c) on purpose: the
 * He & Su datasets were made by torchvision's Resize on PIL images, so matching PIL bit for bit is
 * what makes our 10x10 inputs the authors' inputs.
 *
 * The algorithm, per axis (in -> out pixels, scale = in / out):
 *   output pixel i has its centre at c = (i + 0.5) * scale in input coordinates;
 *   the filter is stretched by fs = max(scale, 1) (antialiasing when shrinking), so its support
 *   is s = filter support * fs; the window is input pixels [(int)(c - s + 0.5), (int)(c + s + 0.5)),
 *   clipped to the image; input pixel j gets weight filter((j - c + 0.5) / fs), and the weights
 *   are divided by their sum.
 * Two passes, horizontal first (each row shrinks to dw pixels), then vertical, like PIL. The
 * intermediate image has the output's pixel type: float32 for the float path (PIL mode "F"), uint8
 * for the byte path (mode "L"), whose weights are also fixed point with 22 fractional bits and
 * whose sums round half up. Those two details move about 8% of the Fashion-MNIST 10x10 pixels by
 * one grey level compared with resampling in float and rounding once, so the byte path copies them.
 *
 * Nothing is allocated (the API has no error path): weights are evaluated where they are used and
 * each horizontal sum is recomputed for every output row whose window covers it. For the sizes at
 * hand (28 or 32 -> 10, 28 -> 32) that is about twice the work of a buffered two-pass resize and
 * a few microseconds per image.
 */
#include <math.h>

#include "hsweep/data.h"

/* ================================================================ filters */

/* Pillow's filters: box is 1 on (-0.5, 0.5] (that half-open side decides which pixel a window
 * edge falls in), bilinear is the triangle 1 - |x| on (-1, 1). */
static double box_filter(double x) { return x > -0.5 && x <= 0.5 ? 1.0 : 0.0; }

static double triangle_filter(double x) {
    if (x < 0.0) x = -x;
    return x < 1.0 ? 1.0 - x : 0.0;
}

typedef struct filter {
    double (*f)(double x);
    double support;
} filter;

static filter filter_of(hs_resize how) {
    return how == HS_RESIZE_AREA ? (filter){box_filter, 0.5} : (filter){triangle_filter, 1.0};
}

/* ================================================================ one output pixel's window */

/* The input pixels [lo, hi) that output pixel i (of out) reads from an axis of in pixels, with
 * the weight of pixel j being window_weight(w, j). */
typedef struct window {
    int lo, hi;
    double center, inv_fs, norm; /* norm = the sum of the raw weights, or 1 if that is 0 (as PIL) */
    double (*f)(double x);
} window;

static window window_of(int in, int out, int i, filter flt) {
    double scale = (double)in / out;
    double fs = scale < 1.0 ? 1.0 : scale;
    double support = flt.support * fs;
    window w = {.center = (i + 0.5) * scale, .inv_fs = 1.0 / fs, .f = flt.f};
    /* (int) truncates toward zero, as in PIL; a negative start is clipped just after */
    w.lo = (int)(w.center - support + 0.5);
    w.hi = (int)(w.center + support + 0.5);
    if (w.lo < 0) w.lo = 0;
    if (w.hi > in) w.hi = in;
    double sum = 0.0;
    for (int j = w.lo; j < w.hi; j++) sum += w.f((j - w.center + 0.5) * w.inv_fs);
    w.norm = sum != 0.0 ? sum : 1.0;
    return w;
}

/* The normalised weight of input pixel j, exactly as PIL stores it (w / sum, in double). */
static double window_weight(const window *w, int j) { return w->f((j - w->center + 0.5) * w->inv_fs) / w->norm; }

/* ================================================================ float (PIL mode "F") */

/* src[sh x sw] -> dst[dh x dw], row-major; sizes >= 1. */
void hs_resize_image(const float *src, int sh, int sw, float *dst, int dh, int dw, hs_resize how) {
    filter flt = filter_of(how);
    for (int i = 0; i < dh; i++) {
        window wy = window_of(sh, dh, i, flt);
        for (int j = 0; j < dw; j++) {
            window wx = window_of(sw, dw, j, flt);
            double acc = 0.0;
            for (int y = wy.lo; y < wy.hi; y++) {
                const float *row = src + (size_t)y * sw;
                double h = 0.0;
                for (int x = wx.lo; x < wx.hi; x++) h += row[x] * window_weight(&wx, x);
                /* PIL keeps the horizontal pass in a float32 image */
                acc += (double)(float)h * window_weight(&wy, y);
            }
            dst[(size_t)i * dw + j] = (float)acc;
        }
    }
}

/* ================================================================ bytes (PIL mode "L") */

#define PRECISION_BITS 22 /* PIL: 32 bits - 8 for the pixel - 2 for overshoot */

/* A weight in PIL's fixed point (round half away from zero; ours are never negative). */
static int32_t fixed_weight(const window *w, int j) {
    return (int32_t)(0.5 + window_weight(w, j) * (1 << PRECISION_BITS));
}

/* Round a fixed-point sum that started at one half to a byte, clamped to 0..255. */
static uint8_t clip8(int64_t acc) {
    int64_t v = acc >> PRECISION_BITS;
    return (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
}

/* src[sh x sw] -> dst[dh x dw], row-major; sizes >= 1. Weights are never negative (box, triangle),
 * so the sums are too and the shift in clip8 is a plain division. */
void hs_resize_image_u8(const uint8_t *src, int sh, int sw, uint8_t *dst, int dh, int dw, hs_resize how) {
    filter flt = filter_of(how);
    const int64_t half = (int64_t)1 << (PRECISION_BITS - 1);
    for (int i = 0; i < dh; i++) {
        window wy = window_of(sh, dh, i, flt);
        for (int j = 0; j < dw; j++) {
            window wx = window_of(sw, dw, j, flt);
            int64_t acc = half;
            for (int y = wy.lo; y < wy.hi; y++) {
                const uint8_t *row = src + (size_t)y * sw;
                int64_t h = half;
                for (int x = wx.lo; x < wx.hi; x++) h += (int64_t)row[x] * fixed_weight(&wx, x);
                acc += (int64_t)clip8(h) * fixed_weight(&wy, y);
            }
            dst[(size_t)i * dw + j] = clip8(acc);
        }
    }
}
