/* richlazy.c - the rich-vs-lazy part of the learning-dynamics analysis (dynamics.h): per
 * configuration of the runs on the rich/lazy task, final losses and relative weight changes per
 * layer; /analysis/dynamics/richlazy and the dynamics-richlazy table. The per-run values are the
 * common ones of dynamics.c. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dynamics.h"

int dyn_stage_richlazy(ctx *x, hs_analysis_out *g, hs_str *csv, hs_str *md, hs_analyze_dynamics_summary *s) {
    const layout *y = &x->y;
    s->richlazy_runs = dyn_select(x, B_XOR);
    if (!s->richlazy_runs || !y->L) return 0;
    size_t L = y->L;
    int w = dyn_part(x, g, "richlazy");
    int *n = (int *)x->buf;
    for (size_t c = 0; c < x->C; c++) n[c] = (int)dyn_ccount(x, c);
    if (!w) w |= dyn_i32(x, g, "n_runs", x->C, n);
    if (!w) {
        w |= dyn_cfg_stats(x, g, "train_loss", B_TRAIN_LOSS, 1, 1, 0, 0) |
             dyn_cfg_stats(x, g, "test_loss", B_TEST_LOSS, 1, 1, 0, 0);
        w |= dyn_cfg_stats(x, g, "weight_change", y->o_wc, L, 1, 0, 0) |
             dyn_cfg_stats(x, g, "norm_change", y->o_nc, L, 1, 0, 0);
        w |= dyn_cfg_stats(x, g, "init_scale", B_INIT_SCALE, 1, 1, 0, 0) |
             dyn_cfg_stats(x, g, "weight_decay", B_DECAY, 1, 1, 0, 0);
    }
    x->part = "";
    hs_str_printf(md,
                  "## Rich vs lazy: final loss and relative weight change per layer\n\n"
                  "dW = |W_l(T) - W_l(0)| / |W_l(0)| (the lazy-regime measure); norm change = (|W_l(T)| - |W_l(0)|) / "
                  "|W_l(0)| (the notebook's change of the norm); layer %zu is the readout; mean +- std over seeds.\n\n"
                  "| config | init scale | weight decay | runs | final train loss |",
                  L - 1);
    hs_str_printf(csv, "config,label,init_scale,weight_decay,n_runs,train_loss_mean,train_loss_std,test_loss_mean,"
                       "test_loss_std");
    for (size_t l = 0; l < L; l++) hs_str_printf(md, " dW layer %zu |", l);
    for (size_t l = 0; l < L; l++) hs_str_printf(md, " norm change layer %zu |", l);
    for (size_t l = 0; l < L; l++) hs_str_printf(csv, ",weight_change%zu_mean,weight_change%zu_std", l, l);
    for (size_t l = 0; l < L; l++) hs_str_printf(csv, ",norm_change%zu_mean,norm_change%zu_std", l, l);
    hs_str_printf(md, "\n|---|---|---|---|---|");
    hs_str_printf(csv, "\n");
    for (size_t l = 0; l < 2 * L; l++) hs_str_printf(md, "---|");
    hs_str_printf(md, "\n");
    for (size_t c = 0; c < x->C; c++) {
        size_t nr = dyn_ccount(x, c);
        if (!nr) continue;
        double m, sd, is, isd, wd, wsd, tl, tsd;
        int k;
        char b[96];
        dyn_cstat(x, c, B_INIT_SCALE, &is, &isd, &k), dyn_cstat(x, c, B_DECAY, &wd, &wsd, &k);
        dyn_cstat(x, c, B_TRAIN_LOSS, &m, &sd, &k), dyn_cstat(x, c, B_TEST_LOSS, &tl, &tsd, &k);
        dyn_fmt_pm(b, sizeof b, m, sd, "%.3g");
        hs_str_printf(md, "| %s | %g | %g | %zu | %s |", x->label[c], is, wd, nr, b);
        hs_str_printf(csv, "%zu,", c);
        hs_an_csv_put(csv, x->label[c], 1);
        hs_str_printf(csv, ",%.10g,%.10g,%zu,%.10g,%.10g,%.10g,%.10g", is, wd, nr, m, sd, tl, tsd);
        for (int pass = 0; pass < 2; pass++)
            for (size_t l = 0; l < L; l++) {
                dyn_cstat(x, c, (pass ? y->o_nc : y->o_wc) + l, &m, &sd, &k);
                dyn_fmt_pm(b, sizeof b, m, sd, "%.3g");
                hs_str_printf(md, " %s |", b);
                hs_str_printf(csv, ",%.10g,%.10g", m, sd);
            }
        hs_str_printf(md, "\n");
        hs_str_printf(csv, "\n");
    }
    hs_str_printf(md, "\n");
    return w ? -1 : 0;
}
