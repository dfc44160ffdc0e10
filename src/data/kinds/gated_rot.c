/* gated_rot.c - the data kind gated_rot, the neural race reduction's "rotate_input_permute_target"
 * (gated-dln-experiments.md) on raw 28x28 Fashion-MNIST pixels: input domain i is rotated by
 * 270 i / M degrees (the paper's CIFAR-10 through a frozen ResNet-20 is not available offline);
 * the rest is the image routing tasks' (data/gated_images.c). */
#include <math.h>

#include "../internal.h"

/* Bilinear rotation of a 28x28 image by deg degrees about its centre (13.5, 13.5), zero outside:
 * out(r, c) = in at (cy + sin a dx + cos a dy, cx + cos a dx - sin a dy), dx = c - cx, dy = r - cy,
 * i.e. the picture turns counter-clockwise as seen on screen. */
static void rotate(const float *in, float *out, double deg) {
    const double a = deg * 3.14159265358979323846 / 180.0, ca = cos(a), sa = sin(a), cx = 0.5 * (HS_GATED_SIDE - 1);
    for (int r = 0; r < HS_GATED_SIDE; r++)
        for (int c = 0; c < HS_GATED_SIDE; c++) {
            const double dx = c - cx, dy = r - cx, sx = cx + ca * dx - sa * dy, sy = cx + sa * dx + ca * dy;
            const double fx = floor(sx), fy = floor(sy), wx = sx - fx, wy = sy - fy;
            double v = 0;
            for (int q = 0; q < 4; q++) {
                const int yy = (int)fy + (q >> 1), xx = (int)fx + (q & 1);
                const double w = (q >> 1 ? wy : 1 - wy) * (q & 1 ? wx : 1 - wx);
                if (yy >= 0 && yy < HS_GATED_SIDE && xx >= 0 && xx < HS_GATED_SIDE && w != 0) v += w * in[yy * HS_GATED_SIDE + xx];
            }
            out[r * HS_GATED_SIDE + c] = (float)v;
        }
}

static void rotate_all(const hs_data_opts *o, int i, int M, const float *src, float *dst, long long n) {
    (void)o;
    for (long long item = 0; item < n; item++)
        rotate(src + (size_t)item * HS_GATED_PIXELS, dst + (size_t)item * HS_GATED_PIXELS, 270.0 * i / M);
}

static hs_code load(const hs_data_opts *o, hs_dataset *train, hs_dataset *test, hs_error *err) {
    return hs_gated_images_load(o, rotate_all, train, test, err);
}

const hs_data_kind hs_data_kind_gated_rot = {
    .name = "gated_rot",
    .doc = "gated_perm with input i rotated by 270 i / M degrees",
    .code = 15,
    .classes = 10,
    .shape = hs_gated_images_shape,
    .load = load,
    .check_files = hs_gated_images_check_files,
};
