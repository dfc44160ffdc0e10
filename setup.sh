#!/usr/bin/env bash
# setup.sh - the README's commands. On a fresh Debian 12 machine:
#   ./setup.sh demo   install what is missing, build, run the default sweep on 2 MPI ranks into
#                     results/default.h5, print its status, analyse it (table), draw the figures
#                     and write its report page (results/default-report.html)
#   ./setup.sh test   install what is missing, build, run the whole test suite (ctest), then all
#                     of it again under ASan+UBSan against the reference BLAS, and the spec fuzzer
#   ./setup.sh docs   regenerate the README's key reference from the schema table
set -euo pipefail
cd "$(dirname "$0")"

RUNTIME_PKGS=(build-essential cmake pkg-config openmpi-bin libopenmpi-dev libhdf5-openmpi-dev hdf5-tools
              libyaml-dev libcunit1-dev libopenblas-dev liblapacke-dev libscalapack-openmpi-dev zlib1g-dev
              python3 python3-numpy python3-h5py python3-matplotlib python3-pandas python3-sklearn
              dataset-fashion-mnist)
# chromium, chromium-driver, python3-selenium: the browser test of `hsweep report`'s page (mpi_report)
TEST_PKGS=(clang libclang-rt-dev munge slurmctld slurmd slurm-client libblas-dev liblapack-dev python3-pip
           chromium chromium-driver python3-selenium)
JOBS=$(nproc 2>/dev/null || echo 2)

say() { printf '\n==> %s\n' "$*"; }

install_pkgs() {
  local missing=()
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if [ ${#missing[@]} -eq 0 ]; then say "Debian packages: all present"; return; fi
  say "installing: ${missing[*]}"
  local sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
}

# Open MPI refuses root without these; CI and containers run as root. One BLAS thread per rank.
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OPENBLAS_NUM_THREADS=1

build() { # build DIR [cmake args...]
  local dir=$1; shift
  say "configure and build in $dir"
  cmake -S . -B "$dir" "$@" >"$dir.configure.log" 2>&1 || { cat "$dir.configure.log"; exit 1; }
  grep '^-- hsweep:' "$dir.configure.log" || true
  cmake --build "$dir" -j "$JOBS"
}

summary() { # the ctest summary line of a log: "N passed, M failed"
  local line; line=$(grep -E '[0-9]+% tests passed, [0-9]+ tests? failed out of [0-9]+' "$1" | tail -1)
  local failed total
  failed=$(printf '%s' "$line" | sed -E 's/.* ([0-9]+) tests? failed out of ([0-9]+).*/\1/')
  total=$(printf '%s' "$line" | sed -E 's/.* ([0-9]+) tests? failed out of ([0-9]+).*/\2/')
  echo "$((total - failed)) $failed"
}

case "${1:-}" in
  demo)
    install_pkgs "${RUNTIME_PKGS[@]}"
    mkdir -p build results && build build -DCMAKE_BUILD_TYPE=Release
    PY=$(grep -E '^HSWEEP_PYTHON:' build/CMakeCache.txt | cut -d= -f2)
    say "sweeps/default.yaml on 2 MPI ranks -> results/default.h5"
    # a demo run again starts anew: a previous file is moved aside (results/default.h5.replaced-<time>)
    mpiexec --oversubscribe -n 2 build/hsweep run sweeps/default.yaml -o results/default.h5 --overwrite
    say "what the file holds"
    build/hsweep status results/default.h5
    say "equi-separation analysis on 2 ranks: per-run fits of ln D_l on l, statistics over seeds"
    mpiexec --oversubscribe -n 2 build/hsweep analyze results/default.h5
    say "figures"
    "$PY" analysis/equisep_figure.py results/default.h5
    "$PY" analysis/plot_curves.py results/default.h5 -o results/default-curves.png
    say "the report: one HTML page of the file (spec, runs, tables, figures)"
    build/hsweep report results/default.h5 -o results/default-report.html
    ;;
  test)
    install_pkgs "${RUNTIME_PKGS[@]}" "${TEST_PKGS[@]}"
    mkdir -p build build-asan
    build build -DCMAKE_BUILD_TYPE=Release
    say "test suite (release build)"
    set +e
    ctest --test-dir build -j"$JOBS" --output-on-failure 2>&1 | tee build/ctest.log
    rc1=${PIPESTATUS[0]}
    set -e
    # The sanitizer pass links Debian's reference BLAS/LAPACK instead of OpenBLAS, so the suite also
    # runs against a second BLAS at no extra build. libblas.so.3 and liblapack.so.3 are alternatives
    # that usually point to OpenBLAS: the libraries are taken from their own directories, and RPATH
    # (not RUNPATH, which only serves the executable's direct needs) makes the loader look there for
    # the ones LAPACKE and ScaLAPACK need too.
    ma=$(gcc -print-multiarch 2>/dev/null || echo x86_64-linux-gnu)
    build build-asan -DCMAKE_BUILD_TYPE=Debug -DCMAKE_C_COMPILER=clang -DHSWEEP_SANITIZE=ON -DHSWEEP_FUZZ=ON \
      -DBLA_VENDOR=Generic "-DCMAKE_LIBRARY_PATH=/usr/lib/$ma/blas;/usr/lib/$ma/lapack" \
      -DCMAKE_EXE_LINKER_FLAGS=-Wl,--disable-new-dtags
    libs=$(build-asan/hsweep version | sed -n 's/^\(BLAS\|LAPACK\) library: //p' | tr '\n' ' ')
    say "sanitizer build: BLAS and LAPACK loaded at run time: $libs"
    case $libs in */blas/libblas.so*/lapack/liblapack.so*) ;;
      *) echo "expected the reference BLAS and LAPACK in the sanitizer build"; exit 1 ;; esac
    say "every test again under ASan+UBSan (leak checks in the unit tests), then the spec fuzzer (${HSWEEP_FUZZ_SECONDS:-30} s)"
    set +e
    # the Slurm test exercises the batch scripts (no new C paths): once, in the release pass, is enough
    HSWEEP_TEST_QUICK=1 ctest --test-dir build-asan -j"$JOBS" -LE slurm --output-on-failure 2>&1 | tee build-asan/ctest.log
    rc2=${PIPESTATUS[0]}
    set -e
    read -r p1 f1 < <(summary build/ctest.log)
    read -r p2 f2 < <(summary build-asan/ctest.log)
    echo
    echo "release: $p1 passed, $f1 failed; sanitizers+fuzz: $p2 passed, $f2 failed"
    echo "all: $((p1 + p2)) passed, $((f1 + f2)) failed"
    [ "$rc1" -eq 0 ] && [ "$rc2" -eq 0 ]
    ;;
  docs)
    [ -x build/hsweep ] || { mkdir -p build && build build; }
    build/hsweep keys --format markdown > build/keys.md
    awk 'FNR==NR { keys = keys $0 "\n"; next }
         /<!-- keys:begin -->/ { print; printf "%s", keys; skip = 1; next }
         /<!-- keys:end -->/ { skip = 0 }
         !skip' build/keys.md README.md > build/README.md.new
    mv build/README.md.new README.md
    say "README key reference regenerated"
    ;;
  *)
    sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//'
    exit 2
    ;;
esac
