/* results_ds.c - the results file's extendible datasets: chunk shapes, creation, extension, and
 * the fill of new cells.
 *
 * Every axis is unlimited so that a resume can grow runs, record points and a series' dims. Fill
 * values are written by the ranks themselves (fill time "never"), never inside HDF5's collective
 * calls, so that a full disk fails locally and every rank learns it in the next store_agree. */
#define _GNU_SOURCE /* fallocate(2), gmtime_r, statvfs */
#include "internal.h"

/* Create a dataset of `rank` dims [n_runs, ...] with the given chunk shape, unlimited along
 * every axis (so grow can extend runs, points and a series' dims). */
static hid_t create_ds_chunked(hid_t loc, const char *name, hid_t type, int rank, const hsize_t *dims,
                               const hsize_t *chunk, const void *fill) {
    hsize_t maxdims[MAX_RANK];
    for (int d = 0; d < rank; d++) maxdims[d] = H5S_UNLIMITED;
    hid_t space = H5Screate_simple(rank, dims, maxdims);
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    hid_t ds = -1;
    if (space >= 0 && dcpl >= 0 && H5Pset_chunk(dcpl, rank, chunk) >= 0 &&
        H5Pset_alloc_time(dcpl, H5D_ALLOC_TIME_EARLY) >= 0 &&
        (!fill || (H5Pset_fill_value(dcpl, type, fill) >= 0 && H5Pset_fill_time(dcpl, H5D_FILL_TIME_NEVER) >= 0)))
        ds = H5Dcreate2(loc, name, type, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    if (dcpl >= 0) H5Pclose(dcpl);
    if (space >= 0) H5Sclose(space);
    return ds;
}


/* Independent: write buf (buf_elems copies of the fill value, memory type mt) over the box
 * [start, start + count) of ds, in pieces of at most buf_elems cells: along `axis` when what
 * lies beyond it fits, else one index of `axis` at a time, recursing. */
static int fill_box(hid_t ds, hid_t mt, int rank, hsize_t *start, hsize_t *count, int axis, const void *buf,
                    size_t buf_elems) {
    for (int d = 0; d < rank; d++)
        if (!count[d]) return 0;
    double beyond = 1;
    for (int d = axis + 1; d < rank; d++) beyond *= (double)count[d];
    hsize_t s0 = start[axis], c0 = count[axis];
    int rc = 0;
    if (beyond > (double)buf_elems && axis + 1 < rank) {
        for (hsize_t j = 0; !rc && j < c0; j++) {
            start[axis] = s0 + j, count[axis] = 1;
            rc = fill_box(ds, mt, rank, start, count, axis + 1, buf, buf_elems);
        }
    } else {
        hsize_t per = (hsize_t)((double)buf_elems / (beyond > 1 ? beyond : 1));
        if (per < 1) per = 1;
        for (hsize_t j = 0; !rc && j < c0; j += per) {
            start[axis] = s0 + j, count[axis] = c0 - j < per ? c0 - j : per;
            rc = store_write_block(ds, mt, rank, start, count, buf);
        }
    }
    start[axis] = s0, count[axis] = c0;
    return rc;
}

/* Independent, this rank's share: the fill value over every cell of ds beyond old[] (zeros for
 * a new dataset), when ds's fill is ours to write. Datasets with a fill value are created with
 * fill time "never" so that HDF5 writes nothing inside its collective create and extend calls: a
 * write that fails there (a full disk) fails on one rank only and leaves the others waiting in
 * HDF5's own barrier for ever. Written here instead, a failure is local and every rank learns it
 * in the store_agree() that follows. The region is cut along the first axis among the ranks. */
int store_fill_fresh(MPI_Comm comm, hid_t ds, const hsize_t *old) {
    hid_t dcpl = H5Dget_create_plist(ds);
    H5D_fill_time_t ft = H5D_FILL_TIME_ALLOC;
    H5D_fill_value_t fs = H5D_FILL_VALUE_UNDEFINED;
    int ours = dcpl >= 0 && H5Pget_fill_time(dcpl, &ft) >= 0 && ft == H5D_FILL_TIME_NEVER &&
               H5Pfill_value_defined(dcpl, &fs) >= 0 && fs == H5D_FILL_VALUE_USER_DEFINED;
    hid_t ftype = ours ? H5Dget_type(ds) : -1;
    hid_t mt = ftype >= 0 && H5Tget_class(ftype) == H5T_FLOAT ? H5T_NATIVE_DOUBLE : H5T_NATIVE_LLONG;
    unsigned char fv[16] = {0};
    if (ours && H5Pget_fill_value(dcpl, mt, fv) < 0) ours = 0;
    if (ftype >= 0) H5Tclose(ftype);
    if (dcpl >= 0) H5Pclose(dcpl);
    if (!ours) return 0;
    hid_t sp = H5Dget_space(ds);
    int rank = sp >= 0 ? H5Sget_simple_extent_ndims(sp) : -1;
    hsize_t dims[MAX_RANK] = {0};
    if (rank < 1 || rank > MAX_RANK || H5Sget_simple_extent_dims(sp, dims, NULL) < 0) {
        if (sp >= 0) H5Sclose(sp);
        return -1;
    }
    H5Sclose(sp);
    int me = 0, np = 1;
    MPI_Comm_rank(comm, &me);
    MPI_Comm_size(comm, &np);
    size_t elems = CHUNK_BYTES / 8;
    double *buf = malloc(elems * 8);
    if (!buf) return -1;
    for (size_t k = 0; k < elems; k++) memcpy(buf + k, fv, 8);
    int rc = 0;
    /* dims minus old, as disjoint boxes: axis k new, axes before it old, axes after it whole */
    for (int k = 0; !rc && k < rank; k++) {
        hsize_t start[MAX_RANK], count[MAX_RANK];
        for (int d = 0; d < rank; d++) {
            hsize_t o = old[d] < dims[d] ? old[d] : dims[d];
            start[d] = d == k ? o : 0;
            count[d] = d < k ? o : d == k ? dims[d] - o : dims[d];
        }
        /* this rank's rows of the box's first axis */
        hsize_t lo = start[0] + count[0] * (hsize_t)me / (hsize_t)np;
        hsize_t hi = start[0] + count[0] * (hsize_t)(me + 1) / (hsize_t)np;
        start[0] = lo, count[0] = hi - lo;
        rc = fill_box(ds, mt, rank, start, count, 0, buf, elems);
    }
    free(buf);
    return rc;
}

/* The run table's, records' and layers' datasets: chunks of CHUNK_RUNS runs by whole rows. */
hid_t store_create_ds(hid_t loc, const char *name, hid_t type, int rank, const hsize_t *dims, const void *fill) {
    hsize_t chunk[3];
    for (int d = 0; d < rank; d++) chunk[d] = dims[d] ? dims[d] : 1;
    chunk[0] = dims[0] < CHUNK_RUNS ? (dims[0] ? dims[0] : 1) : CHUNK_RUNS;
    return create_ds_chunked(loc, name, type, rank, dims, chunk, fill);
}

/* A series dataset: chunked like create_ds, but halved axis by axis (runs first, then points,
 * then the per-point dims) until a chunk holds at most CHUNK_BYTES, since one point of a
 * snapshot can be megabytes. A run stays the leading axis of every chunk, so a run's part of a
 * chunk is contiguous bytes and two ranks never write the same bytes. */
hid_t store_create_series_ds(hid_t loc, const char *name, hid_t type, int rank, const hsize_t *dims,
                              const void *fill) {
    hsize_t chunk[MAX_RANK];
    double bytes = (double)H5Tget_size(type);
    for (int d = 0; d < rank; d++) chunk[d] = dims[d] ? dims[d] : 1;
    if (chunk[0] > CHUNK_RUNS) chunk[0] = CHUNK_RUNS;
    for (int d = 0; d < rank; d++) bytes *= (double)chunk[d];
    for (int d = 0; d < rank; d++)
        while (bytes > CHUNK_BYTES && chunk[d] > 1) {
            bytes /= (double)chunk[d];
            chunk[d] = (chunk[d] + 1) / 2;
            bytes *= (double)chunk[d];
        }
    return create_ds_chunked(loc, name, type, rank, dims, chunk, fill);
}

/* Collective: set the extent of dataset loc/name to at least want[0 .. its rank). */
int store_extend_ds(MPI_Comm comm, hid_t loc, const char *name, const hsize_t *want) {
    hid_t ds = H5Dopen2(loc, name, H5P_DEFAULT);
    hid_t sp = ds >= 0 ? H5Dget_space(ds) : -1;
    int rank = sp >= 0 ? H5Sget_simple_extent_ndims(sp) : -1, rc = 0, grow = 0;
    hsize_t dims[MAX_RANK] = {0}, old[MAX_RANK] = {0};
    if (rank < 1 || rank > MAX_RANK || H5Sget_simple_extent_dims(sp, dims, NULL) < 0) rc = -1;
    memcpy(old, dims, sizeof old);
    for (int d = 0; !rc && d < rank; d++)
        if (want[d] > dims[d]) dims[d] = want[d], grow = 1;
    if (!rc && grow && H5Dset_extent(ds, dims) < 0) rc = -1;
    /* agreed (every rank extends the same datasets), then the new cells' fill, agreed again */
    rc = store_agree(comm, rc);
    if (!rc && grow) rc = store_agree(comm, store_fill_fresh(comm, ds, old));
    if (sp >= 0) H5Sclose(sp);
    if (ds >= 0) H5Dclose(ds);
    return rc;
}

/* Collective: set the extent of every dataset in group to at least (R, N, L) (per its rank). */
int store_extend_group(MPI_Comm comm, hid_t file, const char *group, hsize_t R, hsize_t N, hsize_t L) {
    hid_t g = H5Gopen2(file, group, H5P_DEFAULT);
    if (g < 0) return -1;
    size_t n = 0;
    char **names = store_list_names(g, &n);
    int rc = names ? 0 : -1;
    hsize_t want[3] = {R, N, L};
    rc = store_agree(comm, rc);
    for (size_t i = 0; !rc && i < n; i++) rc = store_extend_ds(comm, g, names[i], want);
    for (size_t i = 0; names && i < n; i++) free(names[i]);
    free(names);
    H5Gclose(g);
    return rc;
}

