/* srhm.h - the SRHM sample-complexity analysis' shared state (private to src/analysis/): srhm.c
 * reads, groups and finds P*; srhm_search.c takes searched P* and fits; srhm_output.c labels the
 * configurations and writes /analysis/srhm and the tables. See include/hsweep/analysis.h for what
 * is computed and stored.
 *
 *     srhm_read_searches(rd, &c, why, len);    // collective phase: every /search/<stage>
 *     ctx c = ...;                              // after identities, configurations
 *     srhm_use_searches(&c, thr, err);          // searched P* replace the grid's where present
 *     srhm_x_fits(&c, err), srhm_s0_fits(&c, err);
 *     srhm_labels(&c, err);                     // "arch=cnn, v=6, L=2, s0=1, lr=0.1"
 *     srhm_write_group(path, &c, thr, err);     // /analysis/srhm
 *     srhm_tables(&c, thr, &summary, &csv, &md);
 */
#ifndef HSWEEP_ANALYSIS_SRHM_H
#define HSWEEP_ANALYSIS_SRHM_H

#include <stddef.h>
#include <string.h>

#include "hsweep/analysis.h"
#include "hsweep/reader.h"

typedef struct srun {
    hs_canon_config cc; /* the canonical config */
    int hier, flag, cfg;
    double eps, P;
    double fin; /* final test error (NaN: unfinished or none recorded): a search's metric */
    long long seed;
    char arch[32], kind[32];
    long long v, n_c, m, s, L, s0; /* resolved: n_c, m never 0; s0 = 0 for the RHM */
    char *ckey, *skey;             /* configuration and seed identities */
} srun;

typedef struct scfg {
    size_t first; /* a representative run */
    double X, p_star, p_closest, eps_closest, l10_mean, l10_std;
    int reached, n_p, n_seeds, n_seeds_reached;
    size_t seed0;         /* its seeds' ln P* are seed_lp[seed0 .. seed0 + n_seeds) (NaN: no crossing) */
    int searched;         /* p_star is a search's crossing (else the grid's) */
    double s_lo, s_hi;    /* the search's bracket (NaN for the grid) */
    const char *stage;    /* the searching stage (NULL for the grid) */
} scfg;

typedef struct sfit {
    char arch[32];
    int v, L, s, n;
    double b, prefactor, r, expected;
    double lo, hi, seed_mean; /* exponent fits: the interval over seeds (srhm_search.c) */
    int seeds, n_s0;
} sfit;

/* The per-seed interval's level (two-sided). */
#define SRHM_CI_LEVEL 0.95

typedef struct ctx {
    size_t R;
    srun *runs;
    scfg *cfgs;
    size_t ncfg;
    char **names; /* union of keys in the rhm/srhm runs' configs */
    size_t nnames;
    hs_str *defs; /* default canon per key of names */
    size_t nother; /* names[0 .. nother): the varying keys beyond arch, v, L, s0, s, n_c, m */
    size_t *idx;
    double *cP, *cmean, *csd, *scratch, *sP, *se;
    int *cn, *ccfg;
    size_t ncurve;
    sfit *fits, *s0fits;
    size_t nfits, ns0fits;
    char **labels;
    double *seed_lp;        /* per configuration and seed: ln P* of that seed's own curve */
    const char **seed_key;  /* and the seed's identity (a run's skey) */
    size_t nseed_lp;
    hs_search_table *tabs;  /* every /search/<stage> of the file, stages[i] its name */
    char **stages;
    size_t ntabs;
    hs_str notes;           /* what the tables say about the searches (unused ones and why) */
} ctx;

/* Strip the JSON quotes of a canonical string value (enum choices carry no escapes). */
static inline void srhm_unquote(const char *text, char *buf, size_t len) {
    size_t n = strlen(text);
    if (n >= 2 && text[0] == '"' && text[n - 1] == '"') text++, n -= 2;
    if (n >= len) n = len - 1;
    memcpy(buf, text, n);
    buf[n] = '\0';
}

/* The keys configurations sort by first (then the other varying keys, by name). */
static const char *const srhm_first_keys[] = {"model.arch", "data.v",   "data.L", "data.s0",
                                              "data.s",     "data.n_c", "data.m"};
#define N_FIRST_KEYS (sizeof srhm_first_keys / sizeof srhm_first_keys[0])

/* The canonical value of the varying key names[o] in run u (its default when u does not list it). */
static inline const char *srhm_value(const ctx *c, const srun *u, size_t o) {
    const char *v = hs_canon_get(&u->cc, c->names[o]);
    return v ? v : c->defs[o].buf ? c->defs[o].buf : "";
}

hs_code srhm_labels(ctx *c, hs_error *err);
/* Config k's per-seed crossings (srhm.c): each seed's own curve of best (use_final 0) or final
 * (1) test error; fills seed_lp, seed_key at cfgs[k].seed0 (appended on the first call) and the
 * log10 spread. */
hs_code srhm_seed_crossings(ctx *c, size_t k, double thr, int use_final, hs_error *err);
/* Every rank, with the reader open: the file's search results into c->tabs (-1 and why when
 * they cannot be read). */
int srhm_read_searches(const hs_results_reader *rd, ctx *c, char *why, size_t wlen);
void srhm_free_searches(ctx *c);
/* Rank 0, after the configurations: each search group's crossing becomes its configuration's
 * P* (source search) when the search measured the analysis' P* (key data.n_train, metric
 * test_err, target = thr) and exactly one configuration holds its runs; notes say what was not
 * used and why. */
hs_code srhm_use_searches(ctx *c, double thr, hs_error *err);
/* Rank 0: per (arch, s), OLS of ln P* on ln X over the configurations that reach the threshold. */
hs_code srhm_x_fits(ctx *c, hs_error *err);
/* Rank 0: the exponent of (s0+1) per (arch, v, L, s) with its interval over seeds. */
hs_code srhm_s0_fits(ctx *c, hs_error *err);
hs_code srhm_write_group(const char *path, const ctx *c, double thr, hs_error *err);
void srhm_tables(const ctx *c, double thr, const hs_analyze_srhm_summary *s, hs_str *csv, hs_str *md);
/* The exponent fits as CSV: <prefix>.srhm-exponent.csv. */
void srhm_exponent_csv(const ctx *c, hs_str *csv);

#endif
