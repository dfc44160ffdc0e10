/* h5.c - the small HDF5 helpers store/ shares, and how an HDF5 failure is explained.
 *
 * HDF5's own error stack says "cannot write" where users need the cause (a full disk, a quota, a
 * dead file server): store_h5_cause digs it out, and STORE_FAIL_IO puts it into the hs_error of
 * every I/O failure the same way. Helpers return 0 / -1 (or an id < 0) and leave the message to
 * the public function that knows what was being written. */
#define _GNU_SOURCE /* fallocate(2), gmtime_r, statvfs */
#include <stdarg.h>
#include <unistd.h>

#include "internal.h"

/* the innermost entry of HDF5's stack that says why (see store_cause) */

static herr_t cause_walk(unsigned n, const H5E_error2_t *e, void *data) {
    store_cause *c = data;
    if (!e->desc || c->text[0]) return 0;
    const char *m = strstr(e->desc, "error message = '");
    if (m) {
        m += strlen("error message = '");
        const char *q = strchr(m, '\'');
        snprintf(c->text, sizeof c->text, "%.*s", q ? (int)(q - m) : 120, m);
    } else if ((m = strstr(e->desc, "MPI Error String"))) {
        m = strchr(m, ':');
        snprintf(c->text, sizeof c->text, "%.120s", m ? m + 1 + (m[1] == ' ') : e->desc);
    } else if (n == 0 && strstr(e->desc, "errno")) {
        snprintf(c->text, sizeof c->text, "%.120s", e->desc);
    }
    return 0;
}

/* Bytes free for this user on the file system that holds path (INFINITY when unknown). */
double store_free_bytes(const char *path) {
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (!slash) snprintf(dir, sizeof dir, ".");
    else if (slash == dir) dir[1] = '\0';
    else *slash = '\0';
    struct statvfs sv;
    return statvfs(dir, &sv) == 0 ? (double)sv.f_bavail * (double)sv.f_frsize : INFINITY;
}

hs_code store_check_room(const char *path, double bytes, const char *what, hs_error *err) {
    char why[300];
    if (!store_room_for(MPI_COMM_SELF, path, bytes + STORE_ROOM_MARGIN, why, sizeof why)) return HS_OK;
    HS_FAIL(err, HS_ERR_IO, "%s: %s %s", path, what, why);
    return hs_error_hint(err, "free space there and run it again: the file was not touched");
}

/* The cause of the first failed raw write since the last h5_cause: HDF5 clears its error stack
 * at the next API call (a close), so the writers note it at once. */
static store_cause g_write_cause;

static void note_cause(void) {
    int e = errno; /* MPI-IO drivers report the system's reason only through errno */
    if (g_write_cause.text[0]) return;
    if (getenv("HSWEEP_TRACE")) H5Eprint2(H5E_DEFAULT, stderr); /* the whole stack, for a bug report */
    H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, cause_walk, &g_write_cause);
    if (!g_write_cause.text[0] && (e == ENOSPC || e == EDQUOT || e == EIO || e == EROFS || e == EFBIG || e == ESTALE))
        snprintf(g_write_cause.text, sizeof g_write_cause.text, "%s", strerror(e));
    if (!g_write_cause.text[0]) snprintf(g_write_cause.text, sizeof g_write_cause.text, "a write failed");
}

/* The cause of the last HDF5 failure on this thread (the noted write cause first), or "". Reading
 * it forgets the noted one. When neither HDF5 nor errno said why (MPI-IO drivers report little,
 * and errno does not survive HDF5's unwinding everywhere), a full file system under path is
 * named as the likely cause: it is by far the commonest. */
const char *store_h5_cause(store_cause *c, const char *path) {
    c->text[0] = '\0';
    if (g_write_cause.text[0]) {
        *c = g_write_cause;
        g_write_cause.text[0] = '\0';
    } else {
        if (getenv("HSWEEP_TRACE")) H5Eprint2(H5E_DEFAULT, stderr);
        H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, cause_walk, c);
    }
    if ((!c->text[0] || !strcmp(c->text, "a write failed")) && path) {
        double avail = store_free_bytes(path);
        if (avail < 1e6)
            snprintf(c->text, sizeof c->text, "%s (%.0f kB left on its file system)", strerror(ENOSPC), avail / 1e3);
    }
    return c->text;
}

/* The first rank's cause that is not empty, on every rank: a write can fail on one rank only
 * (its share of a fill), and the rank that prints the error must be able to say why. */
void store_share_cause(MPI_Comm comm, store_cause *c) {
    int me = 0, np = 1, who = 0;
    MPI_Comm_rank(comm, &me);
    MPI_Comm_size(comm, &np);
    int mine = c->text[0] ? me : np;
    MPI_Allreduce(&mine, &who, 1, MPI_INT, MPI_MIN, comm);
    if (who < np) MPI_Bcast(c->text, sizeof c->text, MPI_CHAR, who, comm);
}

/* Every rank's rc agrees: -1 on all ranks when any failed. Called after each collective HDF5
 * step of create and grow, so that a step that fails on one rank (a full disk seen by one
 * writer) stops every rank before the next collective step, instead of leaving the others
 * waiting in it for ever. */
int store_agree(MPI_Comm comm, int rc) {
    int all = 0;
    MPI_Allreduce(&rc, &all, 1, MPI_INT, MPI_MIN, comm);
    return all < 0 ? -1 : 0;
}

hid_t store_str_type(size_t len) {
    hid_t t = H5Tcopy(H5T_C_S1);
    if (t >= 0 && (H5Tset_size(t, len) < 0 || H5Tset_strpad(t, H5T_STR_NULLTERM) < 0 ||
                   H5Tset_cset(t, H5T_CSET_UTF8) < 0)) {
        H5Tclose(t);
        return -1;
    }
    return t;
}

/* Attributes are variable-length UTF-8 strings: h5py reads them as str, not bytes. */
int store_attr_string(hid_t obj, const char *name, const char *value) {
    hid_t t = H5Tcopy(H5T_C_S1), s = H5Screate(H5S_SCALAR);
    int ok = t >= 0 && H5Tset_size(t, H5T_VARIABLE) >= 0 && H5Tset_cset(t, H5T_CSET_UTF8) >= 0;
    hid_t a = ok && s >= 0 ? H5Acreate2(obj, name, t, s, H5P_DEFAULT, H5P_DEFAULT) : -1;
    ok = a >= 0 && H5Awrite(a, t, &value) >= 0;
    if (a >= 0) H5Aclose(a);
    if (s >= 0) H5Sclose(s);
    if (t >= 0) H5Tclose(t);
    return ok ? 0 : -1;
}

hs_code store_create_single(const char *path, const hs_store_attr *attrs, size_t n_attrs, hid_t *file,
                            hs_error *err) {
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    /* before anything opens it: H5Fis_hdf5 below would block on a FIFO as H5Fcreate would */
    int dir;
    const char *what = hs_path_not_file(path, &dir);
    if (what) {
        HS_FAIL(err, HS_ERR_IO, "%s is %s: an HDF5 file must be a regular file", path, what);
        return hs_error_hint(err, "give -o the name of a file, e.g. %s/out.h5", dir ? path : "results");
    }
    char lock[4096];
    snprintf(lock, sizeof lock, "%s.lock", path);
    int results = access(lock, F_OK) == 0;
    if (!results && access(path, F_OK) == 0 && H5Fis_hdf5(path) > 0) {
        hid_t fapl = store_read_access(MPI_COMM_NULL);
        hid_t f = fapl >= 0 ? H5Fopen(path, H5F_ACC_RDONLY, fapl) : -1;
        results = f < 0 || H5Lexists(f, HS_GROUP_RUNS, H5P_DEFAULT) > 0; /* unopenable: someone writes it */
        if (f >= 0) H5Fclose(f);
        if (fapl >= 0) H5Pclose(fapl);
    }
    if (results) {
        hs_code code = HS_FAIL(err, HS_ERR_IO, "%s is a sweep's results file (or one being written): not overwritten", path);
        hs_error_hint(err, "write to another file (-o)");
        return code;
    }
    errno = 0; /* the checks above set it for a new file */
    *file = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    if (*file < 0) {
        int e = errno;
        hs_code code = HS_FAIL(err, HS_ERR_IO, "%s: cannot create the HDF5 file%s%s", path, e ? ": " : "",
                               e ? strerror(e) : "");
        hs_error_hint(err, "check that the folder exists and is writable");
        return code;
    }
    for (size_t i = 0; i < n_attrs; i++)
        if (store_attr_string(*file, attrs[i].name, attrs[i].value ? attrs[i].value : "")) {
            H5Fclose(*file);
            return HS_FAIL(err, HS_ERR_IO, "%s: cannot write the attribute '%s'", path, attrs[i].name);
        }
    return HS_OK;
}

int store_attr_int(hid_t obj, const char *name, long long value) {
    hid_t s = H5Screate(H5S_SCALAR);
    hid_t a = s >= 0 ? H5Acreate2(obj, name, H5T_STD_I64LE, s, H5P_DEFAULT, H5P_DEFAULT) : -1;
    int ok = a >= 0 && H5Awrite(a, H5T_NATIVE_LLONG, &value) >= 0;
    if (a >= 0) H5Aclose(a);
    if (s >= 0) H5Sclose(s);
    return ok ? 0 : -1;
}

/* A string attribute's text (malloc'd), or NULL when absent or not a string. */
char *store_attr_read_string(hid_t obj, const char *name) {
    if (H5Aexists(obj, name) <= 0) return NULL;
    hid_t a = H5Aopen(obj, name, H5P_DEFAULT);
    hid_t ft = a >= 0 ? H5Aget_type(a) : -1;
    char *out = NULL;
    if (ft >= 0 && H5Tget_class(ft) == H5T_STRING) {
        hid_t mt = H5Tcopy(ft); /* same character set: HDF5 does not convert ASCII <-> UTF-8 */
        if (H5Tis_variable_str(ft) > 0) {
            char *v = NULL;
            if (mt >= 0 && H5Aread(a, mt, &v) >= 0 && v) {
                out = strdup(v);
                hid_t sp = H5Aget_space(a);
                H5Dvlen_reclaim(mt, sp, H5P_DEFAULT, &v);
                H5Sclose(sp);
            }
        } else {
            size_t n = H5Tget_size(ft);
            out = calloc(n + 2, 1);
            if (!out || mt < 0 || H5Tset_size(mt, n + 1) < 0 || H5Aread(a, mt, out) < 0) free(out), out = NULL;
        }
        if (mt >= 0) H5Tclose(mt);
    }
    if (ft >= 0) H5Tclose(ft);
    if (a >= 0) H5Aclose(a);
    return out;
}

/* Write the block [start, start + count) of an open dataset from buf (memory type mtype). */
int store_write_block(hid_t ds, hid_t mtype, int rank, const hsize_t *start, const hsize_t *count, const void *buf) {
    hid_t fs = H5Dget_space(ds);
    hid_t ms = H5Screate_simple(rank, count, NULL);
    int ok = fs >= 0 && ms >= 0 && H5Sselect_hyperslab(fs, H5S_SELECT_SET, start, NULL, count, NULL) >= 0 &&
             H5Dwrite(ds, mtype, ms, fs, H5P_DEFAULT, buf) >= 0;
    if (!ok) note_cause();
    if (ms >= 0) H5Sclose(ms);
    if (fs >= 0) H5Sclose(fs);
    return ok ? 0 : -1;
}

/* Write `count` elements of a 1-D dataset starting at `start` from buf (memory type mtype). */
int store_write_1d(hid_t loc, const char *name, hid_t mtype, hsize_t start, hsize_t count, const void *buf) {
    hid_t ds = H5Dopen2(loc, name, H5P_DEFAULT);
    if (ds < 0) return -1;
    hid_t fs = H5Dget_space(ds);
    hid_t ms = H5Screate_simple(1, &count, NULL);
    int ok = fs >= 0 && ms >= 0 && H5Sselect_hyperslab(fs, H5S_SELECT_SET, &start, NULL, &count, NULL) >= 0 &&
             H5Dwrite(ds, mtype, ms, fs, H5P_DEFAULT, buf) >= 0;
    if (!ok) note_cause();
    if (ms >= 0) H5Sclose(ms);
    if (fs >= 0) H5Sclose(fs);
    H5Dclose(ds);
    return ok ? 0 : -1;
}

/* Write run i's row (all trailing dims) of a dataset from buf. */
int store_write_row(hid_t loc, const char *name, hid_t mtype, size_t i, const void *buf) {
    hid_t ds = H5Dopen2(loc, name, H5P_DEFAULT);
    if (ds < 0) return -1;
    hid_t fs = H5Dget_space(ds);
    int rank = fs >= 0 ? H5Sget_simple_extent_ndims(fs) : -1;
    hsize_t dims[3] = {0}, start[3] = {0}, count[3] = {0};
    int ok = rank >= 1 && rank <= 3 && H5Sget_simple_extent_dims(fs, dims, NULL) >= 0;
    hid_t ms = -1;
    if (ok) {
        start[0] = i, count[0] = 1;
        for (int d = 1; d < rank; d++) count[d] = dims[d];
        ms = H5Screate_simple(rank, count, NULL);
        ok = ms >= 0 && H5Sselect_hyperslab(fs, H5S_SELECT_SET, start, NULL, count, NULL) >= 0 &&
             H5Dwrite(ds, mtype, ms, fs, H5P_DEFAULT, buf) >= 0;
    }
    if (ms >= 0) H5Sclose(ms);
    if (fs >= 0) H5Sclose(fs);
    H5Dclose(ds);
    return ok ? 0 : -1;
}

hid_t store_file_access(MPI_Comm comm) {
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    if (fapl < 0) return -1;
    if (H5Pset_fapl_mpio(fapl, comm, MPI_INFO_NULL) < 0) {
        H5Pclose(fapl);
        return -1;
    }
    /* Cluster file systems without locks (NFS, some Lustre mounts) make HDF5's file locking fail;
     * HDF5_USE_FILE_LOCKING=FALSE in the environment turns it off (HDF5 reads the variable). */
    /* Metadata reads stay independent (the default): a rank opens datasets on its own to write
     * its rows, which collective metadata reads would turn into a hang. */
    H5Pset_coll_metadata_write(fapl, 1);
    return fapl;
}

hid_t store_read_access(MPI_Comm comm) {
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    if (fapl < 0) return -1;
    int nranks = 1;
    if (comm != MPI_COMM_NULL) MPI_Comm_size(comm, &nranks);
    if (nranks > 1 && H5Pset_fapl_mpio(fapl, comm, MPI_INFO_NULL) < 0) {
        H5Pclose(fapl);
        return -1;
    }
#if H5_VERSION_GE(1, 12, 1) || (H5_VERS_MAJOR == 1 && H5_VERS_MINOR == 10 && H5_VERS_RELEASE >= 7)
    H5Pset_file_locking(fapl, 0, 1);
#endif
    return fapl;
}

/* the innermost entry of HDF5's stack, whatever it says (a walk from the API call inwards) */
static herr_t innermost_walk(unsigned n, const H5E_error2_t *e, void *data) {
    (void)n;
    store_cause *c = data;
    if (e->desc && e->desc[0]) snprintf(c->text, sizeof c->text, "%s", e->desc);
    return 0;
}

int store_path_unopenable(const char *path, char *why, size_t n) {
    struct stat st;
    if (stat(path, &st) != 0) {
        int e = errno;
        char creating[4200];
        snprintf(creating, sizeof creating, "%s.creating", path);
        if (e == ENOENT && stat(creating, &st) == 0)
            return snprintf(why, n,
                            "%s: not made: a sweep was stopped while creating it, before any training (%s is its "
                            "unfinished start; `hsweep run` removes it and starts afresh)",
                            path, creating),
                   1;
        return snprintf(why, n, "%s: cannot open: %s", path, strerror(e)), 1;
    }
    const char *what = hs_path_not_file(path, NULL);
    if (what) return snprintf(why, n, "%s: is %s, not a results file", path, what), 1;
    if (st.st_size == 0) return snprintf(why, n, "%s: is empty (0 bytes), not a results file", path), 1;
    return 0;
}

void store_open_failure(const char *path, char *why, size_t n) {
    /* the superblock's signature sits at byte 0, or at 512, 1024, 2048, ... after a user block */
    static const unsigned char sig[8] = {0x89, 'H', 'D', 'F', '\r', '\n', 0x1a, '\n'};
    struct stat st;
    long long size = stat(path, &st) == 0 ? (long long)st.st_size : -1;
    FILE *f = fopen(path, "rb");
    int hdf5 = 0;
    for (long off = 0; f && !hdf5 && off + 8 <= size && off <= (1L << 20); off = off ? 2 * off : 512) {
        unsigned char b[8];
        hdf5 = fseek(f, off, SEEK_SET) == 0 && fread(b, 1, 8, f) == 8 && !memcmp(b, sig, 8);
    }
    if (f) fclose(f);
    /* HDF5's own words name a truncation precisely: "truncated file: eof = .., stored_eof = .." */
    store_cause c = {{0}};
    H5Ewalk2(H5E_DEFAULT, H5E_WALK_DOWNWARD, innermost_walk, &c);
    if (hdf5)
        snprintf(why, n, "%s: an HDF5 file that HDF5 cannot open: cut short or damaged (%lld bytes%s%s)", path, size,
                 c.text[0] ? "; HDF5: " : "", c.text);
    else
        snprintf(why, n, "%s: not an HDF5 file (%lld bytes, no HDF5 signature)", path, size);
}

const char *store_unopenable_hint(const char *why) {
    return strstr(why, "cut short") ? "a copy that stopped, or a disk that filled while it was copied: copy it again "
                                      "from the original (`hsweep status` there says whether that one is whole)"
                                    : "a results file is written by `hsweep run ... -o FILE`";
}

static int ensure_group(hid_t f, const char *path) {
    if (H5Lexists(f, path, H5P_DEFAULT) > 0) return 0;
    hid_t g = H5Gcreate2(f, path, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (g < 0) return -1;
    H5Gclose(g);
    return 0;
}

hid_t store_pending_group(hid_t f, char *path, size_t n) {
    static unsigned long count; /* a name no earlier writer of this file used: pid, then a count */
    if (n < 64 || ensure_group(f, HS_PATH_PENDING) < 0) return -1;
    snprintf(path, n, "%s/%ld-%lu", HS_PATH_PENDING, (long)getpid(), ++count);
    return H5Gcreate2(f, path, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
}

int store_commit_group(hid_t f, const char *pending, const char *parent, const char *name) {
    char sub[512];
    if (snprintf(sub, sizeof sub, "%s/%s", parent, name) >= (int)sizeof sub || ensure_group(f, parent) < 0) return -1;
    if (H5Lexists(f, sub, H5P_DEFAULT) > 0 && H5Ldelete(f, sub, H5P_DEFAULT) < 0) return -1;
    if (H5Lmove(f, pending, f, sub, H5P_DEFAULT, H5P_DEFAULT) < 0) return -1;
    store_drop_pending(f, NULL);
    return 0;
}

void store_drop_pending(hid_t f, const char *pending) {
    if (pending && H5Lexists(f, pending, H5P_DEFAULT) > 0) H5Ldelete(f, pending, H5P_DEFAULT);
    hid_t g = H5Lexists(f, HS_PATH_PENDING, H5P_DEFAULT) > 0 ? H5Gopen2(f, HS_PATH_PENDING, H5P_DEFAULT) : -1;
    if (g < 0) return;
    /* what dead writers left; this process' own pending groups may still be being filled */
    char mine[32];
    const int len = snprintf(mine, sizeof mine, "%ld-", (long)getpid());
    size_t n = 0;
    char **names = store_list_names(g, &n);
    for (size_t i = 0; i < n; i++)
        if (strncmp(names[i], mine, (size_t)len)) H5Ldelete(g, names[i], H5P_DEFAULT);
    for (size_t i = 0; names && i < n; i++) free(names[i]);
    free(names);
    H5G_info_t info;
    const int empty = H5Gget_info(g, &info) >= 0 && info.nlinks == 0;
    H5Gclose(g);
    if (empty) H5Ldelete(f, HS_PATH_PENDING, H5P_DEFAULT);
}

/* Names of the datasets in a group (sorted by HDF5's name order). */
char **store_list_names(hid_t group, size_t *n) {
    H5G_info_t info;
    *n = 0;
    if (H5Gget_info(group, &info) < 0) return NULL;
    char **names = calloc(info.nlinks ? info.nlinks : 1, sizeof *names);
    for (hsize_t i = 0; names && i < info.nlinks; i++) {
        ssize_t len = H5Lget_name_by_idx(group, ".", H5_INDEX_NAME, H5_ITER_INC, i, NULL, 0, H5P_DEFAULT);
        if (len < 0 || !(names[i] = malloc((size_t)len + 1))) return names;
        H5Lget_name_by_idx(group, ".", H5_INDEX_NAME, H5_ITER_INC, i, names[i], (size_t)len + 1, H5P_DEFAULT);
        (*n)++;
    }
    return names;
}

int store_dims_of(hid_t loc, const char *name, hsize_t *dims, int want_rank) {
    hid_t ds = H5Dopen2(loc, name, H5P_DEFAULT);
    if (ds < 0) return -1;
    hid_t s = H5Dget_space(ds);
    int ok = s >= 0 && H5Sget_simple_extent_ndims(s) == want_rank && H5Sget_simple_extent_dims(s, dims, NULL) >= 0;
    if (s >= 0) H5Sclose(s);
    H5Dclose(ds);
    return ok ? 0 : -1;
}

/* The first n elements of a 1-D dataset (-1 when it holds fewer). The run table's datasets can
 * differ in length in a file whose grow was cut short (a full disk): rows count by /runs/id. */
int store_read_1d(hid_t loc, const char *name, hid_t mtype, size_t n, void *buf) {
    hid_t ds = H5Dopen2(loc, name, H5P_DEFAULT);
    if (ds < 0) return -1;
    hid_t fs = H5Dget_space(ds);
    hsize_t dims[1] = {0}, start[1] = {0}, count[1] = {n};
    int ok = fs >= 0 && H5Sget_simple_extent_ndims(fs) == 1 && H5Sget_simple_extent_dims(fs, dims, NULL) >= 0 &&
             dims[0] >= n;
    hid_t ms = ok && n ? H5Screate_simple(1, count, NULL) : -1;
    if (ok && n)
        ok = ms >= 0 && H5Sselect_hyperslab(fs, H5S_SELECT_SET, start, NULL, count, NULL) >= 0 &&
             H5Dread(ds, mtype, ms, fs, H5P_DEFAULT, buf) >= 0;
    if (ms >= 0) H5Sclose(ms);
    if (fs >= 0) H5Sclose(fs);
    H5Dclose(ds);
    return ok ? 0 : -1;
}
int store_replace_attr(hid_t obj, const char *name, const char *value) {
    if (H5Aexists(obj, name) > 0 && H5Adelete(obj, name) < 0) return -1;
    return store_attr_string(obj, name, value);
}


hs_code store_fail_cause(hs_error *err, const char *file, int line, const char *cause, const char *fmt, ...) {
    char msg[sizeof err->msg];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return hs_error_set(err, HS_ERR_IO, file, line, "%s%s%s", msg, cause && cause[0] ? ": " : "",
                        cause ? cause : "");
}
