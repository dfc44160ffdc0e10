# HsweepDeps.cmake - find every dependency up front and, when one is missing, stop with a message
# that names the Debian package to install (and, for a cluster, the CMake variable to set).
# Each dependency becomes an imported target:
#   MPI::MPI_C  hsweep::hdf5  hsweep::yaml  hsweep::cunit  hsweep::blas  hsweep::lapacke
#   hsweep::scalapack  ZLIB::ZLIB  Threads::Threads
# The libraries behind yaml, BLAS, LAPACK(E) and ScaLAPACK are recorded (HSWEEP_DEP_*) so that the
# installed package links exactly what the hsweep binary was linked with (hsweepDepTargets.cmake).

set(HSWEEP_APT_HINT "run ./setup.sh demo (it installs what is missing), or: sudo apt-get install")
find_package(PkgConfig QUIET) # optional: a cluster's modules often ship no .pc files

# hsweep_dep_target(<name> <include dirs> <libraries>): the INTERFACE IMPORTED target hsweep::<name>.
function(hsweep_dep_target name incs libs)
  add_library(hsweep::${name} INTERFACE IMPORTED GLOBAL)
  set_target_properties(hsweep::${name} PROPERTIES INTERFACE_LINK_LIBRARIES "${libs}")
  if(incs)
    set_target_properties(hsweep::${name} PROPERTIES INTERFACE_INCLUDE_DIRECTORIES "${incs}")
  endif()
  set(HSWEEP_DEP_${name}_INCLUDE_DIRS "${incs}" CACHE INTERNAL "")
  set(HSWEEP_DEP_${name}_LIBRARIES "${libs}" CACHE INTERNAL "")
endfunction()

# hsweep_find_c_lib(<name> <pkg-config module> <header> <library names> <debian package> <what>):
# pkg-config first (Debian), else find_path/find_library (modules that set CPATH/LIBRARY_PATH or
# -DCMAKE_PREFIX_PATH).
function(hsweep_find_c_lib name module header libnames debpkg what)
  if(PKG_CONFIG_FOUND)
    pkg_check_modules(_HS_${name} QUIET ${module})
  endif()
  if(_HS_${name}_FOUND)
    hsweep_dep_target(${name} "${_HS_${name}_INCLUDE_DIRS}" "${_HS_${name}_LINK_LIBRARIES}")
    message(STATUS "hsweep: ${what}: ${module} ${_HS_${name}_VERSION}")
    return()
  endif()
  find_path(HSWEEP_${name}_INCLUDE_DIR ${header})
  find_library(HSWEEP_${name}_LIBRARY NAMES ${libnames})
  if(NOT HSWEEP_${name}_INCLUDE_DIR OR NOT HSWEEP_${name}_LIBRARY)
    message(FATAL_ERROR "hsweep: ${what} not found (${header}, lib${libnames}). ${HSWEEP_APT_HINT} ${debpkg}; "
                        "elsewhere add its prefix to -DCMAKE_PREFIX_PATH")
  endif()
  hsweep_dep_target(${name} "${HSWEEP_${name}_INCLUDE_DIR}" "${HSWEEP_${name}_LIBRARY}")
  message(STATUS "hsweep: ${what}: ${HSWEEP_${name}_LIBRARY}")
endfunction()

# ---------------------------------------------------------------- MPI
find_package(MPI QUIET COMPONENTS C)
if(NOT MPI_C_FOUND)
  message(FATAL_ERROR "hsweep: no MPI C compiler/library found. ${HSWEEP_APT_HINT} libopenmpi-dev openmpi-bin "
                      "(on a cluster: module load an MPI, or -DMPI_HOME=..., or CC=mpicc)")
endif()
message(STATUS "hsweep: MPI ${MPI_C_VERSION} (${MPIEXEC_EXECUTABLE})")

# ---------------------------------------------------------------- HDF5, parallel only
include(${CMAKE_CURRENT_LIST_DIR}/hsweepHDF5.cmake)
if(NOT HDF5_FOUND)
  message(FATAL_ERROR "hsweep: HDF5 not found. ${HSWEEP_APT_HINT} libhdf5-openmpi-dev (or -DHDF5_ROOT=...)")
endif()
if(NOT HDF5_IS_PARALLEL)
  message(FATAL_ERROR "hsweep: found a serial HDF5 (${HDF5_C_LIBRARIES}); hsweep writes one results file from "
                      "all MPI ranks and needs HDF5 built with MPI-IO. ${HSWEEP_APT_HINT} libhdf5-openmpi-dev "
                      "(with several HDF5 flavours installed, add -DHDF5_C_COMPILER_EXECUTABLE=/usr/bin/h5pcc "
                      "or -DHDF5_ROOT=<parallel HDF5 prefix>)")
endif()
message(STATUS "hsweep: parallel HDF5 ${HDF5_VERSION}")

# ---------------------------------------------------------------- libyaml, CUnit
hsweep_find_c_lib(yaml yaml-0.1 yaml.h yaml libyaml-dev "libyaml")
hsweep_find_c_lib(cunit cunit CUnit/CUnit.h cunit libcunit1-dev "CUnit")

# ---------------------------------------------------------------- BLAS, LAPACK, LAPACKE, ScaLAPACK
include(${CMAKE_CURRENT_LIST_DIR}/HsweepBlas.cmake)

find_package(ZLIB QUIET)
if(NOT ZLIB_FOUND)
  message(FATAL_ERROR "hsweep: zlib not found. ${HSWEEP_APT_HINT} zlib1g-dev")
endif()
find_package(Threads REQUIRED) # the data registry builds its schema text once (pthread_once)

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
