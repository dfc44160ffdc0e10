# HsweepDeps.cmake - find every dependency up front and, when one is missing, stop with a message
# that names the Debian package to install. Each dependency becomes an imported target:
#   MPI::MPI_C  hsweep::hdf5  hsweep::yaml  hsweep::cunit  hsweep::blas  hsweep::lapacke
#   hsweep::scalapack  ZLIB::ZLIB

set(HSWEEP_APT_HINT "run ./setup.sh demo (it installs what is missing), or: sudo apt-get install")

find_package(PkgConfig QUIET)
if(NOT PKG_CONFIG_FOUND)
  message(FATAL_ERROR "hsweep: pkg-config not found. ${HSWEEP_APT_HINT} pkg-config")
endif()

# hsweep_require_pkg(<target> <pkg-config module> <debian package> <what it is for>)
function(hsweep_require_pkg target module debpkg what)
  pkg_check_modules(_HS_${target} QUIET IMPORTED_TARGET GLOBAL ${module})
  if(NOT _HS_${target}_FOUND)
    message(FATAL_ERROR "hsweep: ${what} not found (pkg-config module '${module}'). ${HSWEEP_APT_HINT} ${debpkg}")
  endif()
  add_library(hsweep::${target} ALIAS PkgConfig::_HS_${target})
  message(STATUS "hsweep: ${what}: ${module} ${_HS_${target}_VERSION}")
endfunction()

# ---------------------------------------------------------------- MPI (Open MPI)
find_package(MPI QUIET COMPONENTS C)
if(NOT MPI_C_FOUND)
  message(FATAL_ERROR "hsweep: no MPI C compiler/library found. ${HSWEEP_APT_HINT} libopenmpi-dev openmpi-bin")
endif()
message(STATUS "hsweep: MPI ${MPI_C_VERSION} (${MPIEXEC_EXECUTABLE})")

# ---------------------------------------------------------------- HDF5, parallel only
set(HDF5_PREFER_PARALLEL TRUE)
find_package(HDF5 QUIET COMPONENTS C)
if(NOT HDF5_FOUND)
  message(FATAL_ERROR "hsweep: HDF5 not found. ${HSWEEP_APT_HINT} libhdf5-openmpi-dev")
endif()
if(NOT HDF5_IS_PARALLEL)
  message(FATAL_ERROR "hsweep: found a serial HDF5 (${HDF5_C_LIBRARIES}); hsweep writes one results file from "
                      "all MPI ranks and needs HDF5 built with MPI-IO. ${HSWEEP_APT_HINT} libhdf5-openmpi-dev "
                      "(with several HDF5 flavours installed, add -DHDF5_C_COMPILER_EXECUTABLE=/usr/bin/h5pcc)")
endif()
add_library(hsweep::hdf5 INTERFACE IMPORTED GLOBAL)
target_include_directories(hsweep::hdf5 INTERFACE ${HDF5_C_INCLUDE_DIRS})
target_link_libraries(hsweep::hdf5 INTERFACE ${HDF5_C_LIBRARIES} MPI::MPI_C)
target_compile_definitions(hsweep::hdf5 INTERFACE ${HDF5_C_DEFINITIONS})
message(STATUS "hsweep: parallel HDF5 ${HDF5_VERSION}")

# ---------------------------------------------------------------- the rest, through pkg-config
hsweep_require_pkg(yaml yaml-0.1 libyaml-dev "libyaml")
hsweep_require_pkg(cunit cunit libcunit1-dev "CUnit")
hsweep_require_pkg(blas openblas libopenblas-dev "OpenBLAS (CBLAS)")
hsweep_require_pkg(lapacke lapacke liblapacke-dev "LAPACKE")
hsweep_require_pkg(scalapack scalapack-openmpi libscalapack-openmpi-dev "ScaLAPACK (Open MPI flavour)")

find_package(ZLIB QUIET)
if(NOT ZLIB_FOUND)
  message(FATAL_ERROR "hsweep: zlib not found. ${HSWEEP_APT_HINT} zlib1g-dev")
endif()

# Python with h5py + matplotlib runs the figure script and some tests. A pyenv `python3` on PATH
# often lacks Debian's packages, so prefer the system interpreter.
find_program(HSWEEP_PYTHON NAMES python3 PATHS /usr/bin NO_DEFAULT_PATH)
if(NOT HSWEEP_PYTHON)
  find_package(Python3 QUIET COMPONENTS Interpreter)
  set(HSWEEP_PYTHON "${Python3_EXECUTABLE}")
endif()
if(NOT HSWEEP_PYTHON)
  message(FATAL_ERROR "hsweep: python3 not found. ${HSWEEP_APT_HINT} python3 python3-h5py python3-matplotlib")
endif()
message(STATUS "hsweep: python ${HSWEEP_PYTHON}")
