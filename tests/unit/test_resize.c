/* test_resize.c - resampling and normalisation: hs_resize_image (float) and hs_resize_image_u8
 * (bytes) against values PIL produced, hand-checkable cases (constants, identity, block means,
 * ramps), and ToTensor + Normalize against values torch printed. No files. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "datasets.h"
#include "hsweep/data.h"
#include "testing.h"

/* ================================================================ resampling */

/* The float pattern of the PIL comparisons: exact in float32, irregular enough that a wrong
 * window or weight shows. */
static void float_pattern(float *p, int h, int w) {
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) p[y * w + x] = (float)(((x * 37 + y * 11) % 23) * 0.5 + 0.03125 * x * y);
}

/* Expected values from Pillow 9.4 on mode "F" images (float32, no rounding), made with:
 *   import numpy as np; from PIL import Image
 *   def pattern(h, w):
 *       y, x = np.mgrid[0:h, 0:w]
 *       return (((x * 37 + y * 11) % 23) * 0.5 + 0.03125 * x * y).astype(np.float32)
 *   def rs(a, w, h, m): return np.asarray(Image.fromarray(a, 'F').resize((w, h), m))
 *   rs(pattern(28, 28), 10, 10, Image.BILINEAR)      # likewise Image.BOX; printed with '%.9g'
 *   rs(pattern(28, 28), 32, 32, Image.BILINEAR)      # a few entries
 *   rs(pattern(13, 28), 9, 5, Image.BILINEAR)        # 13x28 -> 5x9 (and BOX), a few entries */
static const float pil_bilinear_28_10[100] = {
    4.84502554f, 5.88254356f, 5.40992451f, 6.29792833f, 6.10653257f, 5.47661638f, 6.69559288f, 6.06500673f, 6.11473227f,
    7.06102037f, 5.17970467f, 6.37159443f, 6.02211237f, 6.57614756f, 6.98059702f, 7.03944016f, 7.91924f,    7.55841637f,
    8.35817814f, 8.48507309f, 5.99151802f, 6.38018274f, 6.25522375f, 7.96565294f, 7.76816559f, 8.37954903f, 9.42100716f,
    9.21854973f, 10.6624603f, 10.4154758f, 6.21358728f, 6.36041784f, 7.5222764f,  8.39304447f, 8.49601364f, 10.2384825f,
    10.5277214f, 11.294528f,  12.5508966f, 12.2195053f, 6.74812412f, 6.72053528f, 7.86034346f, 9.18118095f, 9.66786194f,
    11.5784225f, 11.9439602f, 13.177083f,  14.5259151f, 14.9282103f, 6.37327099f, 6.6540947f,  9.05562782f, 9.61701298f,
    11.0505428f, 12.772357f,  13.2635355f, 15.5792198f, 16.319767f,  17.0245037f, 6.29513502f, 7.51679087f, 9.39577675f,
    10.2200289f, 12.4907799f, 13.7359467f, 15.2253504f, 17.0816536f, 17.919138f,  20.3458786f, 5.71473217f, 7.85049391f,
    9.89162636f, 10.9989986f, 13.7150583f, 14.9024925f, 16.596693f,  18.9799519f, 20.1326885f, 22.541666f,  5.55978727f,
    8.66430855f, 10.034008f,  12.1938124f, 14.5660801f, 15.7760315f, 18.9490528f, 20.3735676f, 22.0135651f, 25.1207867f,
    6.18061209f, 8.943223f,   10.5243587f, 13.0259161f, 15.3715191f, 17.3520794f, 19.9434986f, 21.5667591f, 24.6306782f,
    26.5485725f,
};
static const float pil_box_28_10[100] = {
    4.86458349f, 5.51388884f, 5.203125f,   6.17013884f, 6.81944466f, 4.91319466f, 6.84027767f, 5.890625f,   6.21875f,
    6.86805534f, 4.84722233f, 7.05555534f, 5.0625f,     6.90277767f, 6.55555534f, 7.48611116f, 8.41666698f, 7.0625f,
    8.26388931f, 9.19444466f, 6.53645802f, 7.0625f,     4.9453125f,  8.578125f,   7.1875f,     7.71354198f, 10.15625f,
    8.0390625f,  11.671875f,  10.28125f,   5.67013884f, 7.06944466f, 6.74479151f, 8.97569466f, 7.81944418f, 10.4965277f,
    10.6180553f, 10.932292f,  12.5243053f, 11.3680553f, 6.93055534f, 6.05555534f, 8.52083302f, 8.43055534f, 10.1111107f,
    11.791667f,  12.1944447f, 12.104167f,  14.5694447f, 14.9722223f, 6.91319466f, 6.31944466f, 10.296875f,  9.16319466f,
    11.125f,     13.0868053f, 12.4930553f, 17.109375f,  15.3368063f, 17.2986107f, 5.61805534f, 7.86111116f, 10.15625f,
    9.89583302f, 12.1388893f, 14.3819447f, 15.3472223f, 18.28125f,   17.3819447f, 20.9027767f, 5.390625f,   7.22916698f,
    10.0390625f, 10.932291f,  14.6875f,    14.609375f,  16.447916f,  19.2578125f, 20.1510429f, 21.9895821f, 5.16319466f,
    9.15277767f, 9.921875f,   11.96875f,   14.6805553f, 14.8368063f, 18.8263893f, 20.234375f,  21.6423607f, 25.6319447f,
    6.42361116f, 9.41666698f, 9.78125f,    12.7013893f, 15.6944447f, 17.4097233f, 20.4027767f, 21.40625f,   24.9652767f,
    26.6805553f,
};

typedef struct pixel_value {
    int i, j;
    float v;
} pixel_value;

/* Count (and print) the entries of got[n] further than 1e-5 from want[n]. */
static int count_far(const float *got, const float *want, int n, const char *what) {
    int far = 0;
    for (int k = 0; k < n; k++)
        if (fabsf(got[k] - want[k]) > 1e-5f) {
            if (far++ < 5) fprintf(stderr, "\n  %s[%d]: got %.9g, PIL %.9g", what, k, got[k], want[k]);
        }
    return far;
}

static void test_resize_matches_pil_float(void) {
    float src[28 * 28], dst[32 * 32];
    float_pattern(src, 28, 28);
    hs_resize_image(src, 28, 28, dst, 10, 10, HS_RESIZE_BILINEAR);
    CU_ASSERT_EQUAL(count_far(dst, pil_bilinear_28_10, 100, "bilinear 28->10"), 0);
    hs_resize_image(src, 28, 28, dst, 10, 10, HS_RESIZE_AREA);
    CU_ASSERT_EQUAL(count_far(dst, pil_box_28_10, 100, "box 28->10"), 0);

    /* upsampling: plain bilinear (the filter is not stretched) */
    static const pixel_value up[] = {{0, 0, 0.0f},   {0, 31, 5.0f},       {5, 7, 5.38537598f}, {16, 16, 9.1817627f},
                                     {31, 0, 10.5f}, {31, 31, 26.78125f}, {20, 3, 8.91003418f}};
    hs_resize_image(src, 28, 28, dst, 32, 32, HS_RESIZE_BILINEAR);
    for (size_t k = 0; k < sizeof up / sizeof up[0]; k++)
        CU_ASSERT_DOUBLE_EQUAL(dst[up[k].i * 32 + up[k].j], up[k].v, 1e-5);

    /* non-square, different factors per axis: 13x28 -> 5x9 */
    float rect[13 * 28];
    float_pattern(rect, 13, 28);
    static const pixel_value bil[] = {
        {0, 0, 4.96731186f}, {1, 4, 7.43018007f}, {2, 8, 9.98065662f}, {4, 3, 9.51633167f}, {4, 8, 13.9409142f}};
    static const pixel_value box[] = {
        {0, 0, 4.86458349f}, {1, 4, 7.4140625f}, {2, 8, 10.3194447f}, {4, 3, 9.99305534f}, {4, 8, 13.770833f}};
    hs_resize_image(rect, 13, 28, dst, 5, 9, HS_RESIZE_BILINEAR);
    for (int k = 0; k < 5; k++) CU_ASSERT_DOUBLE_EQUAL(dst[bil[k].i * 9 + bil[k].j], bil[k].v, 1e-5);
    hs_resize_image(rect, 13, 28, dst, 5, 9, HS_RESIZE_AREA);
    for (int k = 0; k < 5; k++) CU_ASSERT_DOUBLE_EQUAL(dst[box[k].i * 9 + box[k].j], box[k].v, 1e-5);
}

static void test_resize_by_hand(void) {
    static const hs_resize both[2] = {HS_RESIZE_BILINEAR, HS_RESIZE_AREA};
    float src[28 * 28], dst[32 * 32];

    /* a constant image stays constant, shrinking, growing and per axis */
    static const int sizes[][2] = {{10, 10}, {32, 32}, {7, 28}, {28, 5}, {1, 1}, {28, 28}};
    for (int i = 0; i < 28 * 28; i++) src[i] = 0.7f;
    for (int m = 0; m < 2; m++)
        for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
            int dh = sizes[s][0], dw = sizes[s][1], off = 0;
            hs_resize_image(src, 28, 28, dst, dh, dw, both[m]);
            for (int i = 0; i < dh * dw; i++) off += fabsf(dst[i] - 0.7f) > 1e-6f;
            CU_ASSERT_EQUAL(off, 0);
        }

    /* the same size is the identity */
    float_pattern(src, 28, 28);
    for (int m = 0; m < 2; m++) {
        hs_resize_image(src, 28, 28, dst, 28, 28, both[m]);
        CU_ASSERT_EQUAL(memcmp(src, dst, sizeof(float) * 28 * 28), 0);
    }

    /* area 4x4 -> 2x2: block means */
    static const float four[16] = {1, 2, 10, 20, 3, 4, 30, 40, 0, 0, 5, 5, 0, 8, 5, 9};
    hs_resize_image(four, 4, 4, dst, 2, 2, HS_RESIZE_AREA);
    CU_ASSERT_DOUBLE_EQUAL(dst[0], 2.5, 1e-6);
    CU_ASSERT_DOUBLE_EQUAL(dst[1], 25.0, 1e-6);
    CU_ASSERT_DOUBLE_EQUAL(dst[2], 2.0, 1e-6);
    CU_ASSERT_DOUBLE_EQUAL(dst[3], 6.0, 1e-6);

    /* area 28 -> 10 of a ramp: PIL's box takes the pixels whose centres fall in each 2.8-wide box,
     * with equal weights: {0,1,2} {3,4,5} {6,7} {8,9,10} {11,12,13} {14,15,16} {17,18,19} {20,21}
     * {22,23,24} {25,26,27} */
    static const float ramp_means[10] = {1, 4, 6.5f, 9, 12, 15, 18, 20.5f, 23, 26};
    for (int y = 0; y < 28; y++)
        for (int x = 0; x < 28; x++) src[y * 28 + x] = (float)x;
    hs_resize_image(src, 28, 28, dst, 10, 10, HS_RESIZE_AREA);
    for (int y = 0; y < 10; y++)
        for (int x = 0; x < 10; x++) CU_ASSERT_DOUBLE_EQUAL(dst[y * 10 + x], ramp_means[x], 1e-5);

    /* a pixel centre exactly on a box edge goes to the box on its left (PIL's box filter is 1 on
     * (-0.5, 0.5]): 1x5 -> 1x2 has boxes [0, 2.5] and [2.5, 5], pixel 2 centred on 2.5 */
    static const float five[5] = {0, 10, 20, 30, 40};
    hs_resize_image(five, 1, 5, dst, 1, 2, HS_RESIZE_AREA);
    CU_ASSERT_DOUBLE_EQUAL(dst[0], 10.0, 1e-6);
    CU_ASSERT_DOUBLE_EQUAL(dst[1], 35.0, 1e-6);

    /* bilinear 1x2 -> 1x4: centres 0.25 0.75 1.25 1.75; the edges clamp */
    static const float two[2] = {4, 8};
    hs_resize_image(two, 1, 2, dst, 1, 4, HS_RESIZE_BILINEAR);
    CU_ASSERT_DOUBLE_EQUAL(dst[0], 4.0, 1e-6);
    CU_ASSERT_DOUBLE_EQUAL(dst[1], 5.0, 1e-6);
    CU_ASSERT_DOUBLE_EQUAL(dst[2], 7.0, 1e-6);
    CU_ASSERT_DOUBLE_EQUAL(dst[3], 8.0, 1e-6);

    /* bilinear 1x4 -> 1x2 (factor 2): the triangle widens to +-2 pixels, weights 1 3 3 1 over four
     * pixels; the image edge clips one of them and the rest are renormalised: 3 3 1 / 7 */
    static const float row4[4] = {0, 8, 16, 24};
    hs_resize_image(row4, 1, 4, dst, 1, 2, HS_RESIZE_BILINEAR);
    CU_ASSERT_DOUBLE_EQUAL(dst[0], (0 * 3 + 8 * 3 + 16 * 1) / 7.0, 1e-5);
    CU_ASSERT_DOUBLE_EQUAL(dst[1], (8 * 1 + 16 * 3 + 24 * 3) / 7.0, 1e-5);
}

/* Pillow 9.4 on mode "L" (8-bit) images of the byte pattern below:
 *   y, x = np.mgrid[0:28, 0:28]; b = ((x * 37 + y * 11 + x * y) % 256).astype(np.uint8)
 *   np.asarray(Image.fromarray(b, 'L').resize((10, 10), Image.BILINEAR))     # and Image.BOX
 * Resampling in float and rounding once gets 12 of each 100 wrong by one: PIL rounds after each
 * pass and uses fixed-point weights. */
static const uint8_t pil_l_bilinear[100] = {
    58,  150, 107, 110, 159, 90,  161, 96,  128, 140, 89,  164, 92,  150, 99,  131, 128, 118, 142, 91,
    123, 153, 107, 143, 98,  156, 99,  151, 114, 153, 152, 122, 140, 105, 135, 111, 141, 121, 137, 108,
    160, 101, 156, 107, 141, 106, 145, 121, 134, 128, 144, 109, 144, 134, 127, 139, 114, 144, 117, 145,
    146, 136, 123, 139, 113, 144, 132, 120, 137, 102, 110, 143, 117, 124, 136, 122, 149, 127, 126, 137,
    111, 146, 128, 110, 140, 129, 128, 129, 126, 124, 102, 123, 133, 117, 127, 139, 123, 115, 129, 130,
};
static const uint8_t pil_l_box[100] = {
    49,  163, 88,  97,  183, 69,  183, 65,  117, 146, 85,  180, 55,  157, 81,  147, 99,  117, 162, 86,
    115, 161, 99,  165, 82,  170, 87,  196, 91,  179, 145, 112, 142, 115, 139, 106, 159, 104, 133, 100,
    181, 72,  195, 89,  151, 99,  132, 113, 150, 126, 132, 117, 162, 121, 135, 149, 105, 165, 109, 152,
    139, 162, 86,  153, 90,  141, 164, 88,  155, 92,  112, 157, 88,  146, 148, 107, 152, 125, 140, 142,
    114, 152, 131, 110, 148, 129, 110, 161, 97,  135, 93,  111, 184, 85,  132, 150, 140, 84,  142, 132,
};

static void test_resize_u8_matches_pil(void) {
    uint8_t src[28 * 28], dst[32 * 32];
    for (int y = 0; y < 28; y++)
        for (int x = 0; x < 28; x++) src[y * 28 + x] = (uint8_t)((x * 37 + y * 11 + x * y) % 256);
    hs_resize_image_u8(src, 28, 28, dst, 10, 10, HS_RESIZE_BILINEAR);
    CU_ASSERT_EQUAL(memcmp(dst, pil_l_bilinear, 100), 0);
    hs_resize_image_u8(src, 28, 28, dst, 10, 10, HS_RESIZE_AREA);
    CU_ASSERT_EQUAL(memcmp(dst, pil_l_box, 100), 0);

    /* rows first, each pass rounded half up: {1 2 / 1 2} -> 2; {0 1 / 0 0} -> rows 1, 0 -> 1 where the
     * exact mean 0.25 would round to 0; {7 7 / 7 8} -> rows 7, 8 -> 8 (exact 7.25) */
    static const uint8_t four[16] = {1, 2, 0, 1, 1, 2, 0, 0, 255, 255, 7, 7, 255, 255, 7, 8};
    hs_resize_image_u8(four, 4, 4, dst, 2, 2, HS_RESIZE_AREA);
    CU_ASSERT_EQUAL(dst[0], 2);
    CU_ASSERT_EQUAL(dst[1], 1);
    CU_ASSERT_EQUAL(dst[2], 255);
    CU_ASSERT_EQUAL(dst[3], 8);

    /* constant images stay constant, 0 and 255 included (no overshoot past the ends) */
    for (int v = 0; v < 256; v += 85) {
        memset(src, v, sizeof src);
        hs_resize_image_u8(src, 28, 28, dst, 32, 32, HS_RESIZE_BILINEAR);
        int off = 0;
        for (int i = 0; i < 32 * 32; i++) off += dst[i] != v;
        hs_resize_image_u8(src, 28, 28, dst, 10, 10, HS_RESIZE_AREA);
        for (int i = 0; i < 10 * 10; i++) off += dst[i] != v;
        CU_ASSERT_EQUAL(off, 0);
    }
}

/* ================================================================ normalisation */

static void test_normalisation_matches_torch(void) {
    for (int k = 0; k < 5; k++)
        for (int i = 0; i < 6; i++)
            CU_ASSERT_EQUAL(torch_norm(torch_q[i], norm_pairs[k][0], norm_pairs[k][1]), torch_values[k][i]);
}

int main(void) {
    static const hs_test tests[] = {
        {"resize (float) matches PIL mode F", test_resize_matches_pil_float},
        {"resize by hand: constants, identity, block means, ramps", test_resize_by_hand},
        {"resize (bytes) matches PIL mode L bit for bit", test_resize_u8_matches_pil},
        {"ToTensor + Normalize match torch in float32", test_normalisation_matches_torch},
        {NULL, NULL},
    };
    return hs_test_main("resize", tests);
}
