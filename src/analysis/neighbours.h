/* neighbours.h - the numerical kernels of the neighbours analysis (neighbours.c), private to
 * src/analysis/ and public to the unit tests: exact k-nearest neighbours in double precision,
 * the category composition of a neighbour list on a label tree, numpy's linear percentile and
 * the trailing moving average every curve of the hierarchy paper is smoothed with. */
#ifndef HSWEEP_ANALYSIS_NEIGHBOURS_H
#define HSWEEP_ANALYSIS_NEIGHBOURS_H

#include <stddef.h>

/* Exact k nearest rows (Euclidean) of the query rows q0..q1 of X [N x W] among all N rows: nbr and D
 * [(q1 - q0) x k], each row sorted by (distance, index). The query row itself is neighbour 0
 * (distance 0) even when an identical row precedes it; ties otherwise go to the lower index.
 * Needs k <= N. Returns 0, or -1 when out of memory. */
int an_knn(const double *X, size_t N, size_t W, size_t q0, size_t q1, size_t k, int *nbr, double *D);

/* The level of the lowest common ancestor of leaves a and b in a tree of branching b with V label
 * levels: 0 the same leaf, l the first level where their classes agree, V only the root. */
int an_lca_level(int a, int b, int branching, int V);

/* Category composition of one neighbour list: of the n leaves nb[0..n), the fractions whose lowest
 * common ancestor with leaf self is at level <= l (share[l], same class at level l), exactly
 * l + 1 (sib[l]: the within mask, same parent but another class at level l) and exactly l + 2
 * (cou[l]: the between mask, cousins), for l = 0..V-1; sib and cou are NaN where the parent or
 * grandparent would be above the root. All NaN when n = 0. */
void an_composition(int self, const int *nb, size_t n, int branching, int V, double *share, double *sib,
                    double *cou);

/* numpy.percentile(x, p) with linear interpolation, of the n values x sorted ascending. */
double an_percentile_sorted(const double *x, size_t n, double p);

/* out[j] = mean of the finite values among x[j - w + 1 .. j] (strides sx, so) (pandas
 * rolling(w, min_periods=1).mean() where every value is finite); NaN when none. */
void an_trailing_mean(const double *x, size_t sx, size_t n, size_t w, double *out, size_t so);

#endif
