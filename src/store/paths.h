/* paths.h - every name and width of hsweep's HDF5 files, in one place.
 *
 * The results file's layout (include/hsweep/store.h) is a contract with readers outside this
 * library (the Python reader, h5py scripts, the analyses through store's reader): a name spelled
 * twice drifts. So the writer and the reader of store/ spell every group, dataset and attribute
 * through these macros, and nothing else in hsweep spells them at all. Names are plain string
 * literals, so they concatenate: HS_PATH_RUNS "/" HS_RUNS_STATUS is "/runs/status".
 *
 * Widths are part of the format too: a fixed-length string column read with another width reads
 * garbage or truncates. */
#ifndef HSWEEP_STORE_PATHS_H
#define HSWEEP_STORE_PATHS_H

/* ---------------------------------------------------------------- the results file of a sweep */

#define HS_RESULTS_FORMAT "hsweep-results/1" /* value of the root attribute HS_ATTR_FORMAT */

/* root attributes */
#define HS_ATTR_FORMAT "format"
#define HS_ATTR_HSWEEP_VERSION "hsweep_version"
#define HS_ATTR_SCHEMA_VERSION "schema_version" /* int64; the others are strings */
#define HS_ATTR_SPEC "spec"
#define HS_ATTR_SPEC_PATH "spec_path"
#define HS_ATTR_SPEC_SHA256 "spec_sha256"
#define HS_ATTR_PLAN_DIGEST "plan_digest"
#define HS_ATTR_OVERRIDES "overrides"
#define HS_ATTR_CREATED "created"
#define HS_ATTR_SESSIONS "sessions"

/* groups (link names under the root, and their absolute paths) */
#define HS_GROUP_RUNS "runs"
#define HS_GROUP_RECORDS "records"
#define HS_GROUP_LAYERS "layers"
#define HS_GROUP_SERIES "series"
#define HS_GROUP_ANALYSIS "analysis" /* one subgroup per analysis, written by hs_analysis_out_open */
#define HS_PATH_RUNS "/" HS_GROUP_RUNS
#define HS_PATH_RECORDS "/" HS_GROUP_RECORDS
#define HS_PATH_LAYERS "/" HS_GROUP_LAYERS
#define HS_PATH_SERIES "/" HS_GROUP_SERIES
#define HS_PATH_ANALYSIS "/" HS_GROUP_ANALYSIS
#define HS_GROUP_TABLES "tables" /* one subgroup per table kind, written by hs_analysis_out_table */
#define HS_PATH_TABLES "/" HS_GROUP_TABLES
#define HS_TABLE_CSV "csv" /* /tables/<kind>/csv: variable-length UTF-8 string scalar */
#define HS_TABLE_MD "md"   /* /tables/<kind>/md: the same, absent when the table has no Markdown */
#define HS_GROUP_PENDING ".pending" /* groups being written, moved into place when whole (store_pending_group) */
#define HS_PATH_PENDING "/" HS_GROUP_PENDING
#define HS_GROUP_SEARCH "search" /* one subgroup per searching stage, written by hs_results_write_search */
#define HS_PATH_SEARCH "/" HS_GROUP_SEARCH
/* /search/<stage>: datasets [G] (G groups) and [G x S] (S seeds), and attributes */
#define HS_SEARCH_GROUP "group"
#define HS_SEARCH_STATUS "status"
#define HS_SEARCH_ROUNDS "rounds"
#define HS_SEARCH_POINTS "points"
#define HS_SEARCH_CROSSING "crossing"
#define HS_SEARCH_LO "lo"
#define HS_SEARCH_HI "hi"
#define HS_SEARCH_ERR_LO "err_lo"
#define HS_SEARCH_ERR_HI "err_hi"
#define HS_SEARCH_SEEDS_LO "seeds_lo"
#define HS_SEARCH_SEEDS_HI "seeds_hi"
#define HS_SEARCH_ATTR_KEY "key"
#define HS_SEARCH_ATTR_METRIC "metric"
#define HS_SEARCH_ATTR_TARGET "target"

/* the run table: datasets of /runs, one cell per run (typed key columns are named by their keys) */
#define HS_RUNS_ID "id"               /* string [HS_ID_LEN] */
#define HS_RUNS_CONFIG "config"       /* string, width chosen at creation */
#define HS_RUNS_STATUS "status"       /* enum uint8 over hs_run_state's names */
#define HS_RUNS_RANK "rank"           /* int32 */
#define HS_RUNS_ATTEMPTS "attempts"   /* int32 */
#define HS_RUNS_START "start"         /* float64, Unix seconds */
#define HS_RUNS_END "end"             /* float64, Unix seconds */
#define HS_RUNS_WALL "wall"           /* float64, seconds */
#define HS_RUNS_EPOCHS_DONE "epochs_done" /* int64 */
#define HS_RUNS_STEPS "steps"         /* int64 */
#define HS_RUNS_ERROR "error"         /* string [HS_ERROR_LEN] */
#define HS_RUNS_STEPS_TOTAL "steps_total" /* int64 (absent in early files) */
#define HS_RUNS_IN_PLAN "in_plan"     /* int32 (absent in early files) */
#define HS_RUNS_PROVENANCE "provenance" /* string [HS_PROVENANCE_LEN] (absent in early files) */
#define HS_PATH_RUNS_ID HS_PATH_RUNS "/" HS_RUNS_ID
#define HS_PATH_RUNS_CONFIG HS_PATH_RUNS "/" HS_RUNS_CONFIG
#define HS_PATH_RUNS_STATUS HS_PATH_RUNS "/" HS_RUNS_STATUS
#define HS_PATH_RUNS_IN_PLAN HS_PATH_RUNS "/" HS_RUNS_IN_PLAN
#define HS_PATH_RUNS_PROVENANCE HS_PATH_RUNS "/" HS_RUNS_PROVENANCE

/* a series: /series/<name>/values and /series/<name>/point, attributes of the <name> group */
#define HS_SERIES_VALUES "values"
#define HS_SERIES_POINT "point"
#define HS_SERIES_AXES "axes"   /* string attribute */
#define HS_SERIES_EVERY "every" /* int64 attribute, only when every run stores every k-th point */

/* widths of fixed-length string cells, NUL included */
#define HS_ID_LEN 17               /* 16 hex digits + NUL */
#define HS_ERROR_LEN 256           /* stored error messages are cut to this */
#define HS_PROVENANCE_LEN 1024     /* a run's provenance lines are cut to this */
#define HS_CONFIG_MIN_WIDTH 256    /* /runs/config is at least this wide */
#define HS_KEY_STR_MIN_WIDTH 32    /* a string key column is at least this wide */

/* ---------------------------------------------------------------- the file of one training */

/* Root attributes (strings) the CLI gives hs_store_write_run; the groups are the results file's
 * (HS_GROUP_RECORDS, HS_GROUP_LAYERS, HS_GROUP_SERIES with HS_SERIES_*). */
#define HS_RUN_ATTR_HSWEEP_VERSION "hsweep_version"
#define HS_RUN_ATTR_RUN_ID "run_id"
#define HS_RUN_ATTR_STATUS "status"
#define HS_RUN_ATTR_MESSAGE "message"
#define HS_RUN_ATTR_CONFIG "config"
#define HS_RUN_ATTR_SPEC "spec"
#define HS_RUN_ATTR_PROVENANCE "provenance"

/* ---------------------------------------------------------------- the data file of one run
 * (`hsweep data`): /train/x, /train/y, /test/x, /test/y, root attributes as the run's file */
#define HS_DATA_FORMAT "hsweep-data/1"
#define HS_DATA_ATTR_FORMAT "format"
#define HS_DATA_GROUP_TRAIN "train"
#define HS_DATA_GROUP_TEST "test"
#define HS_DATA_X "x"
#define HS_DATA_Y "y"
#define HS_DATA_T "t" /* real-valued targets, where the data has them */

#endif /* HSWEEP_STORE_PATHS_H */
