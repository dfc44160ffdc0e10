/* internal.h - what the analyses under src/analysis/ share (private): the table writer, short key
 * names, and the run table grouped into configurations (runtable.h). No HDF5 here: analyses read
 * through hsweep/reader.h and write /analysis/<name> with its hs_aout_* calls. */
#ifndef HSWEEP_ANALYSIS_INTERNAL_H
#define HSWEEP_ANALYSIS_INTERNAL_H

#include <mpi.h>
#include <string.h>

#include "hsweep/analysis.h"
#include "hsweep/util.h"
#include "runtable.h"

/* Write the tables of one analysis: <prefix>.<kind>.csv and .md, where prefix is o->prefix or the
 * results path without ".h5" (registry.c), and the same text into the results file as
 * /tables/<kind>/csv and md (hs_analysis_out_table). Rank 0 only. An empty body writes no file: a
 * CSV-only table leaves no empty .md beside it for a reader to mistake for a failed analysis. */
hs_code hs_an_write_tables(const hs_analyze_opts *o, const char *kind, const hs_str *csv, const hs_str *md,
                           hs_error *err);

struct hs_results_reader;
struct hs_train_config;

/* Make rank 0's outcome every rank's (collective): broadcasts rc, rank 0's error `mine` (message,
 * hint and trace) and the n doubles of vals (rank 0's values in, everyone's out; vals may be NULL
 * when n = 0). Returns rank 0's rc on every rank, with err (which may be NULL) set to rank 0's
 * error plus this call's place when it failed, so every rank reports the same failure. For the
 * analyses that compute on rank 0 while all ranks hold the file open. */
hs_code hs_an_share_outcome(MPI_Comm comm, hs_code rc, const hs_error *mine, double *vals, int n, hs_error *err);

/* Non-zero when some run of the file has a config that parses and satisfies pred (runs whose
 * config no longer parses are skipped): what an analysis' applies() asks (registry.c). */
int hs_an_any_run(const struct hs_results_reader *rd, int (*pred)(const struct hs_train_config *c));

/* Append v to csv as one CSV field (RFC 4180, what pandas and the report read): in double quotes
 * with every inner quote doubled when it holds a comma, a quote or a line break, or always when
 * quote is set; else as is. */
void hs_an_csv_put(hs_str *csv, const char *v, int quote);

/* "model.depth" -> "depth", for table headers and labels */
static inline const char *hs_an_short_name(const char *key) {
    const char *dot = strrchr(key, '.');
    return dot ? dot + 1 : key;
}

/* The block of runs [*r0, *r1) of rank of nranks: the same split on every rank, so a gather needs
 * no exchange. Returns the block size per rank. */
static inline size_t hs_an_block(size_t R, int rank, int nranks, size_t *r0, size_t *r1) {
    size_t per = (R + (size_t)nranks - 1) / (size_t)nranks;
    *r0 = (size_t)rank * per < R ? (size_t)rank * per : R;
    *r1 = *r0 + per < R ? *r0 + per : R;
    return per;
}

#endif
