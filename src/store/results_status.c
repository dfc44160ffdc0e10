/* results_status.c - hs_results_describe: the human summary behind `hsweep status`.
 *
 * It opens the file serially and read-only, never takes the lock, and needs no MPI, so it is safe
 * on a file a live job is writing. */
#define _GNU_SOURCE /* fallocate(2), gmtime_r, statvfs */
#include "internal.h"

/* ================================================================ summary (serial) */

/* "3m10s", "2h05m". */
static void fmt_span(double s, char *buf, size_t n) {
    if (!isfinite(s) || s < 0) snprintf(buf, n, "?");
    else if (s < 60) snprintf(buf, n, "%.0fs", s);
    else if (s < 3600) snprintf(buf, n, "%dm%02ds", (int)(s / 60), (int)fmod(s, 60));
    else snprintf(buf, n, "%dh%02dm", (int)(s / 3600), (int)fmod(s / 60, 60));
}

/* The last two sessions both drained (a signal, e.g. a time limit) without finishing a run or
 * saving a checkpoint: requeueing again would only repeat them. */
static int sessions_stalled(const char *sessions) {
    if (!sessions) return 0;
    int stalled_in_a_row = 0;
    for (const char *line = sessions; *line;) {
        const char *end = strchr(line, '\n');
        size_t n = end ? (size_t)(end - line) : strlen(line);
        char buf[512];
        snprintf(buf, sizeof buf, "%.*s", (int)(n < sizeof buf ? n : sizeof buf - 1), line);
        const char *p = strstr(buf, "progressed="), *d = strstr(buf, "drained=");
        double progressed = p ? strtod(p + 11, NULL) : 1;
        int drained = d ? atoi(d + 8) : 0;
        stalled_in_a_row = drained && progressed == 0 ? stalled_in_a_row + 1 : 0;
        line += n + (end ? 1 : 0);
    }
    return stalled_in_a_row >= 2;
}

hs_code hs_results_describe(const char *path, hs_str *out, hs_results_census *census, hs_error *err) {
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    memset(census, 0, sizeof *census);
    /* who writes it, first: a reader never takes the lock, and never opens the file for writing */
    hs_lock_info owner = {0};
    hs_lock_state ls = HS_LOCK_NONE;
    hs_error lerr = {0};
    if (hs_lock_inspect(path, &owner, &ls, &lerr) != HS_OK) ls = HS_LOCK_NONE;
    census->writer = ls;
    char why[4400];
    int refused = ls != HS_LOCK_LIVE && store_path_unopenable(path, why, sizeof why);
    hid_t fapl = refused ? -1 : store_read_access(MPI_COMM_NULL);
    hid_t file = fapl >= 0 ? H5Fopen(path, H5F_ACC_RDONLY, fapl) : -1;
    if (file < 0 && !refused && ls != HS_LOCK_LIVE) store_open_failure(path, why, sizeof why);
    if (fapl >= 0) H5Pclose(fapl);
    if (file < 0) {
        if (ls == HS_LOCK_LIVE) {
            HS_FAIL(err, HS_ERR_IO, "%s: cannot open as an HDF5 file", path);
            return hs_error_hint(err, "a writer is creating it right now: ask again in a moment");
        }
        HS_FAIL(err, HS_ERR_IO, "%s", why);
        return hs_error_hint(err, "%s", store_unopenable_hint(why));
    }
    char *format = store_attr_read_string(file, HS_ATTR_FORMAT), *spec = store_attr_read_string(file, HS_ATTR_SPEC_PATH);
    char *sha = store_attr_read_string(file, HS_ATTR_SPEC_SHA256), *created = store_attr_read_string(file, HS_ATTR_CREATED);
    char *sessions = store_attr_read_string(file, HS_ATTR_SESSIONS), *overrides = store_attr_read_string(file, HS_ATTR_OVERRIDES);
    /* what a writer killed inside the close that commits it left behind (store_pending_group) */
    const int pending = H5Lexists(file, HS_PATH_PENDING, H5P_DEFAULT) > 0;
    hs_code rc = HS_OK;
    hid_t runs = -1, t_id = store_str_type(HS_ID_LEN), t_err = store_str_type(HS_ERROR_LEN), st = store_state_type();
    hsize_t d1[1] = {0};
    char (*ids)[HS_ID_LEN] = NULL, (*errs)[HS_ERROR_LEN] = NULL;
    unsigned char *states = NULL;
    double *wall = NULL, *start = NULL;
    int *ranks = NULL, *attempts = NULL, *in_plan = NULL;
    long long *steps = NULL, *total = NULL, *epochs = NULL;
    if (!format || strcmp(format, HS_RESULTS_FORMAT) != 0) {
        rc = HS_FAIL(err, HS_ERR_VALUE, "%s: not an hsweep results file (no " HS_ATTR_FORMAT " attribute \"" HS_RESULTS_FORMAT "\")", path);
        goto out;
    }
    runs = H5Gopen2(file, HS_GROUP_RUNS, H5P_DEFAULT);
    if (runs < 0 || store_dims_of(runs, HS_RUNS_ID, d1, 1)) {
        rc = HS_FAIL(err, HS_ERR_VALUE, "%s: missing " HS_PATH_RUNS_ID, path);
        goto out;
    }
    size_t R = d1[0];
    ids = calloc(R + 1, sizeof *ids), errs = calloc(R + 1, sizeof *errs), states = calloc(R + 1, 1);
    wall = calloc(R + 1, sizeof *wall), start = calloc(R + 1, sizeof *start), ranks = calloc(R + 1, sizeof *ranks);
    attempts = calloc(R + 1, sizeof *attempts), in_plan = calloc(R + 1, sizeof *in_plan);
    steps = calloc(R + 1, sizeof *steps), total = calloc(R + 1, sizeof *total), epochs = calloc(R + 1, sizeof *epochs);
    if (!ids || !errs || !states || !wall || !start || !ranks || !attempts || !in_plan || !steps || !total || !epochs) {
        rc = HS_FAIL(err, HS_ERR_NOMEM, "out of memory");
        goto out;
    }
    if (R && store_read_1d(runs, HS_RUNS_ID, t_id, R, ids) == 0) R = store_rows_with_id((const char(*)[HS_ID_LEN])ids, R);
    if (R && (store_read_1d(runs, HS_RUNS_ID, t_id, R, ids) || store_read_1d(runs, HS_RUNS_STATUS, st, R, states) ||
              store_read_1d(runs, HS_RUNS_ERROR, t_err, R, errs) || store_read_1d(runs, HS_RUNS_WALL, H5T_NATIVE_DOUBLE, R, wall) ||
              store_read_1d(runs, HS_RUNS_START, H5T_NATIVE_DOUBLE, R, start) || store_read_1d(runs, HS_RUNS_RANK, H5T_NATIVE_INT, R, ranks) ||
              store_read_1d(runs, HS_RUNS_ATTEMPTS, H5T_NATIVE_INT, R, attempts) ||
              store_read_1d(runs, HS_RUNS_STEPS, H5T_NATIVE_LLONG, R, steps) ||
              store_read_1d(runs, HS_RUNS_EPOCHS_DONE, H5T_NATIVE_LLONG, R, epochs))) {
        rc = HS_FAIL(err, HS_ERR_VALUE, "%s: cannot read the run table", path);
        goto out;
    }
    /* columns of later versions: absent in older files */
    for (size_t r = 0; r < R; r++) in_plan[r] = 1, total[r] = -1;
    if (R && H5Lexists(runs, HS_RUNS_IN_PLAN, H5P_DEFAULT) > 0) store_read_1d(runs, HS_RUNS_IN_PLAN, H5T_NATIVE_INT, R, in_plan);
    if (R && H5Lexists(runs, HS_RUNS_STEPS_TOTAL, H5P_DEFAULT) > 0) store_read_1d(runs, HS_RUNS_STEPS_TOTAL, H5T_NATIVE_LLONG, R, total);
    double total_wall = 0, now = (double)time(NULL);
    size_t finished = 0, *count = census->states;
    census->runs = R;
    for (size_t r = 0; r < R; r++) {
        if (!in_plan[r]) {
            census->orphans++;
            continue;
        }
        if (states[r] < HS_STATE_COUNT) count[states[r]]++;
        if ((states[r] == HS_STATE_DONE || states[r] == HS_STATE_DIVERGED) && isfinite(wall[r]))
            total_wall += wall[r], finished++;
    }
    census->stalled = sessions_stalled(sessions);
    size_t n_sessions = 0;
    for (const char *c = sessions; c && *c; c++) n_sessions += *c == '\n';
    for (char *c = overrides; c && *c; c++)
        if (*c == '\n') *c = ' '; /* one --set per line in the file, one line here */
    hs_str_printf(out, "%s: spec %s (sha256 %.12s)%s%s, created %s, %zu job%s ended cleanly\n", path,
                  spec ? spec : "?", sha ? sha : "?", overrides && overrides[0] ? " with --set " : "",
                  overrides && overrides[0] ? overrides : "", created ? created : "?", n_sessions,
                  n_sessions == 1 ? "" : "s");
    char who[512] = "";
    if (ls != HS_LOCK_NONE) hs_lock_describe(&owner, who, sizeof who);
    if (ls == HS_LOCK_LIVE) hs_str_printf(out, "writer: live: %s\n", who);
    else if (ls == HS_LOCK_STALE && !strcmp(owner.command, "analyze"))
        /* a killed analysis leaves the sweep's data whole (HDF5 writes its metadata at the close),
         * but what it was writing is absent or the previous analysis */
        hs_str_printf(out, "writer: gone (stale lock: %s); the analysis it was writing may be missing or the previous "
                      "one: analyse again (hsweep analyze takes the lock over)\n", who);
    else if (ls == HS_LOCK_STALE) hs_str_printf(out, "writer: gone (stale lock: %s); --resume takes the lock over\n", who);
    if (pending)
        hs_str_printf(out, "unfinished write: %s holds an analysis or search result whose writer died before it was in "
                      "place (no reader uses it; the next analysis drops it)\n", HS_PATH_PENDING);
    hs_str_printf(out, "%zu runs: %zu done, %zu diverged, %zu failed, %zu running, %zu pending", R - census->orphans,
                  count[HS_STATE_DONE], count[HS_STATE_DIVERGED], count[HS_STATE_FAILED], count[HS_STATE_RUNNING],
                  count[HS_STATE_PENDING]);
    if (census->orphans)
        hs_str_printf(out, "; and %zu rows kept from an earlier spec (not in the current plan, never run again)",
                      census->orphans);
    hs_str_printf(out, "\n");
    if (finished)
        hs_str_printf(out, "training time: %.1f s in finished runs (%.2f s per run)\n", total_wall,
                      total_wall / (double)finished);
    static const struct {
        hs_run_state s;
        const char *title;
    } lists[] = {{HS_STATE_FAILED, "failed (an error, or a rank that died sweep.max_attempts times)"},
                 {HS_STATE_DIVERGED, "diverged (the loss became non-finite: a result, not an error)"}};
    for (size_t l = 0; l < sizeof lists / sizeof lists[0]; l++) {
        if (!count[lists[l].s]) continue;
        hs_str_printf(out, "%s:\n", lists[l].title);
        for (size_t r = 0; r < R; r++)
            if (in_plan[r] && states[r] == lists[l].s)
                hs_str_printf(out, "  %s  rank %d  attempt %d  %s\n", ids[r], ranks[r], attempts[r], errs[r]);
    }
    if (count[HS_STATE_RUNNING]) {
        hs_str_printf(out, "%s:\n", ls == HS_LOCK_LIVE ? "running now" : "running when their job died (each such attempt counts; --resume trains them again)");
        for (size_t r = 0; r < R; r++) {
            if (!in_plan[r] || states[r] != HS_STATE_RUNNING) continue;
            hs_str_printf(out, "  %s  rank %d  attempt %d", ids[r], ranks[r], attempts[r]);
            if (total[r] > 0 && steps[r] >= 0) {
                double frac = (double)steps[r] / (double)total[r], el = now - start[r];
                hs_str_printf(out, "  step %lld of %lld (%.0f%%), epoch %lld", steps[r], total[r], 100 * frac, epochs[r]);
                if (ls == HS_LOCK_LIVE && frac > 0 && isfinite(el)) {
                    char eta[32];
                    fmt_span(el * (1 - frac) / frac, eta, sizeof eta);
                    hs_str_printf(out, ", ETA %s", eta);
                }
            }
            hs_str_printf(out, "\n");
        }
    }
    size_t left = count[HS_STATE_PENDING] + count[HS_STATE_RUNNING];
    const char *resume = "`hsweep run SPEC -o FILE --resume`";
    hs_str cmd = {0};
    if (hs_str_printf(&cmd, "`hsweep run ") == HS_OK && hs_str_shell(&cmd, spec ? spec : "SPEC") == HS_OK &&
        hs_str_printf(&cmd, " -o ") == HS_OK && hs_str_shell(&cmd, path) == HS_OK &&
        hs_str_printf(&cmd, " --resume`") == HS_OK)
        resume = cmd.buf;
    if (ls == HS_LOCK_LIVE)
        hs_str_printf(out, "being written: do not resume or analyse it until the writer ends (stop it with SIGUSR1 "
                           "to mpirun or the process: it drains and closes the file)\n");
    else if (left && census->stalled)
        hs_str_printf(out, "stalled: the last two jobs ended without finishing a run or saving a checkpoint; check "
                           "the log (%s.log) before resuming with %s\n", path, resume);
    else if (left)
        hs_str_printf(out, "incomplete: %zu runs left; continue with %s%s\n", left, resume,
                      count[HS_STATE_FAILED] ? " (add --retry-failed to redo failed runs)" : "");
    else if (count[HS_STATE_FAILED])
        hs_str_printf(out, "complete with %zu failed runs: the analyses use the others; %s --retry-failed runs them "
                           "again\n", count[HS_STATE_FAILED], resume);
    else
        hs_str_printf(out, "complete\n");
    hs_str_free(&cmd);
out:
    free(ids), free(errs), free(states), free(wall), free(start), free(ranks), free(attempts), free(in_plan);
    free(steps), free(total), free(epochs);
    free(format), free(spec), free(sha), free(created), free(sessions), free(overrides);
    if (st >= 0) H5Tclose(st);
    if (t_id >= 0) H5Tclose(t_id);
    if (t_err >= 0) H5Tclose(t_err);
    if (runs >= 0) H5Gclose(runs);
    H5Fclose(file);
    return rc;
}

