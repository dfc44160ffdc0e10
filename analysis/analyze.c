/* analyze.c - which analysis a results file calls for (see include/hsweep/analysis.h). */
#include <hdf5.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "h5common.h"
#include "hsweep/analysis.h"

/* Rank 0 reads /runs/config (the canonical text of every run) and looks for an rhm/srhm data
 * kind, then for the dynamics analysis' data kinds and series; the answer is broadcast so every
 * rank takes the same branch. */
hs_code hs_analyze_detect(MPI_Comm comm, const char *path, hs_analysis_kind *kind, hs_error *err) {
    int rank, answer = -1; /* -1 unreadable, 0 equisep, 1 srhm, 2 dynamics */
    MPI_Comm_rank(comm, &rank);
    if (rank == 0) {
        H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
        hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
        hid_t ds = f >= 0 ? H5Dopen2(f, "/runs/config", H5P_DEFAULT) : -1;
        hid_t t = ds >= 0 ? H5Dget_type(ds) : -1, sp = ds >= 0 ? H5Dget_space(ds) : -1;
        hssize_t n = sp >= 0 ? H5Sget_simple_extent_npoints(sp) : -1;
        size_t w = t >= 0 && H5Tget_class(t) == H5T_STRING && !H5Tis_variable_str(t) ? H5Tget_size(t) : 0;
        char *buf = n >= 0 && w ? calloc((size_t)n + 1, w + 1) : NULL;
        hid_t mt = w ? H5Tcopy(t) : -1;
        if (buf && mt >= 0 && H5Tset_size(mt, w + 1) >= 0 && H5Dread(ds, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) >= 0) {
            answer = 0;
            int dyn = 0;
            for (hssize_t r = 0; r < n && answer != 1; r++) {
                const char *c = buf + (size_t)r * (w + 1);
                if (strstr(c, "data.kind=\"rhm\"") || strstr(c, "data.kind=\"srhm\"")) answer = 1;
                static const char *const dyn_kinds[] = {"data.kind=\"hierarchy\"", "data.kind=\"partition\"",
                                                        "data.kind=\"xor\"", "data.kind=\"gated_toy\"",
                                                        "data.kind=\"gated_fmnist\"", "model.arch=\"gated\""};
                for (size_t k = 0; k < sizeof dyn_kinds / sizeof dyn_kinds[0]; k++) dyn |= strstr(c, dyn_kinds[k]) != NULL;
            }
            static const char *const dyn_series[] = {"/series/level_acc", "/series/mode_strength",
                                                     "/series/singular_values"};
            if (H5Lexists(f, "/series", H5P_DEFAULT) > 0)
                for (size_t k = 0; k < sizeof dyn_series / sizeof dyn_series[0]; k++)
                    dyn |= H5Lexists(f, dyn_series[k], H5P_DEFAULT) > 0;
            if (answer == 0 && dyn) answer = 2;
        }
        free(buf);
        if (mt >= 0) H5Tclose(mt);
        if (sp >= 0) H5Sclose(sp);
        if (t >= 0) H5Tclose(t);
        if (ds >= 0) H5Dclose(ds);
        if (f >= 0) H5Fclose(f);
    }
    MPI_Bcast(&answer, 1, MPI_INT, 0, comm);
    if (answer < 0) {
        HS_FAIL(err, HS_ERR_IO, "%s: cannot open as an hsweep results file (no /runs/config)", path);
        hs_error_hint(err, "a results file is written by `hsweep run ... -o FILE`");
        return HS_ERR_IO;
    }
    *kind = answer == 1 ? HS_ANALYSIS_SRHM : answer == 2 ? HS_ANALYSIS_DYNAMICS : HS_ANALYSIS_EQUISEP;
    return HS_OK;
}

hs_code hs_an_write_tables(const hs_analyze_opts *o, const char *kind, const hs_str *csv, const hs_str *md,
                           hs_error *err) {
    hs_str prefix = {0};
    if (o->prefix) hs_str_printf(&prefix, "%s", o->prefix);
    else {
        size_t n = strlen(o->path);
        if (n > 3 && !strcmp(o->path + n - 3, ".h5")) n -= 3;
        hs_str_append(&prefix, o->path, n);
    }
    const char *ext[2] = {"csv", "md"};
    const hs_str *body[2] = {csv, md};
    hs_code rc = HS_OK;
    for (int i = 0; i < 2 && rc == HS_OK; i++) {
        hs_str p = {0};
        hs_str_printf(&p, "%s.%s.%s", prefix.buf ? prefix.buf : "", kind, ext[i]);
        FILE *fp = p.buf ? fopen(p.buf, "w") : NULL;
        if (!fp || (body[i]->len && fwrite(body[i]->buf, 1, body[i]->len, fp) != body[i]->len))
            rc = HS_FAIL(err, HS_ERR_IO, "%s: cannot write the table", p.buf ? p.buf : "?");
        if (fp && fclose(fp) != 0 && rc == HS_OK) rc = HS_FAIL(err, HS_ERR_IO, "%s: cannot write the table", p.buf);
        hs_str_free(&p);
    }
    hs_str_free(&prefix);
    return rc;
}
