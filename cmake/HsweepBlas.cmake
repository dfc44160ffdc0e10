# HsweepBlas.cmake - BLAS, LAPACK, LAPACKE and ScaLAPACK from any vendor, as hsweep::blas,
# hsweep::lapacke and hsweep::scalapack; and which vendor thread controls the BLAS has.
#
# BLAS and LAPACK come from CMake's FindBLAS/FindLAPACK, so BLA_VENDOR picks the vendor
# (OpenBLAS, Intel10_64lp_seq, FLAME for BLIS, Generic, ...). Unset, FindBLAS takes the first it
# finds; on Debian that is OpenBLAS. With Cray's compiler wrappers LibSci is linked implicitly and
# both lists are empty. LAPACKE and CBLAS are inside OpenBLAS, MKL and LibSci builds but separate
# libraries elsewhere (Debian: liblapacke); ScaLAPACK is inside MKL only when asked for and in
# LibSci, otherwise a library of its own: -DSCALAPACK_LIBRARIES=... overrides the search.
include(CheckFunctionExists)
find_package(Threads REQUIRED) # a threaded BLAS needs it in the checks below

set(_hs_blas_hint "${HSWEEP_APT_HINT} libopenblas-dev liblapacke-dev (elsewhere: -DBLA_VENDOR=<vendor>, "
                  "and its prefix in -DCMAKE_PREFIX_PATH; see the README, Install on a cluster)")
find_package(BLAS QUIET)
if(NOT BLAS_FOUND)
  message(FATAL_ERROR "hsweep: no BLAS found (BLA_VENDOR='${BLA_VENDOR}'). ${_hs_blas_hint}")
endif()
find_package(LAPACK QUIET)
if(NOT LAPACK_FOUND)
  message(FATAL_ERROR "hsweep: no LAPACK found (BLA_VENDOR='${BLA_VENDOR}'). ${_hs_blas_hint}")
endif()
# BLAS_LINKER_FLAGS (e.g. MKL's -fopenmp) go with the libraries
set(_hs_linalg ${LAPACK_LINKER_FLAGS} ${LAPACK_LIBRARIES} ${BLAS_LINKER_FLAGS} ${BLAS_LIBRARIES})
list(REMOVE_DUPLICATES _hs_linalg)

# hsweep_has(<symbol> <var> <libraries>): whether <symbol> links against the libraries. The result
# is cached under a name that includes the libraries, so another BLAS in the same build directory
# is checked anew.
function(hsweep_has symbol var libs)
  string(SHA1 _key "${symbol};${libs}")
  string(SUBSTRING ${_key} 0 12 _key)
  set(CMAKE_REQUIRED_LIBRARIES ${libs} m ${CMAKE_THREAD_LIBS_INIT})
  set(CMAKE_REQUIRED_QUIET ON)
  check_function_exists(${symbol} HSWEEP_HAS_${symbol}_${_key})
  set(${var} ${HSWEEP_HAS_${symbol}_${_key}} PARENT_SCOPE)
endfunction()

# CBLAS: cblas.h and cblas_sgemm
hsweep_has(cblas_sgemm _hs_cblas_in "${_hs_linalg}")
if(NOT _hs_cblas_in)
  find_library(HSWEEP_CBLAS_LIBRARY NAMES cblas)
  if(NOT HSWEEP_CBLAS_LIBRARY)
    message(FATAL_ERROR "hsweep: the BLAS (${BLAS_LIBRARIES}) has no CBLAS interface and no libcblas was found. "
                        "${_hs_blas_hint}")
  endif()
  list(PREPEND _hs_linalg ${HSWEEP_CBLAS_LIBRARY})
endif()
set(_hs_hints)
foreach(_lib ${BLAS_LIBRARIES})
  if(IS_ABSOLUTE "${_lib}")
    get_filename_component(_dir "${_lib}" DIRECTORY)
    list(APPEND _hs_hints "${_dir}/../include" "${_dir}/../../include")
  endif()
endforeach()
if(DEFINED ENV{MKLROOT})
  list(APPEND _hs_hints "$ENV{MKLROOT}/include")
endif()
# hsweep_find_header(<var> <header>): beside the libraries first, then wherever the compiler looks
# by itself (Debian's /usr/include, Cray's wrappers: the variable is then empty), then the usual
# prefixes.
function(hsweep_find_header var header)
  find_path(${var} ${header} HINTS ${_hs_hints} PATH_SUFFIXES openblas blis NO_DEFAULT_PATH)
  if(NOT ${var})
    string(MAKE_C_IDENTIFIER "HSWEEP_COMPILER_HAS_${header}" _seen)
    check_include_file(${header} ${_seen})
    if(${_seen})
      set(${var} "" CACHE PATH "directory of ${header} (empty: the compiler finds it)" FORCE)
      return()
    endif()
    find_path(${var} ${header} PATH_SUFFIXES openblas blis)
  endif()
  if(NOT ${var})
    message(FATAL_ERROR "hsweep: ${header} not found; give -D${var}=<directory>. ${_hs_blas_hint}")
  endif()
endfunction()
include(CheckIncludeFile)
hsweep_find_header(HSWEEP_CBLAS_INCLUDE_DIR cblas.h)
hsweep_find_header(HSWEEP_LAPACKE_INCLUDE_DIR lapacke.h)
hsweep_dep_target(blas "${HSWEEP_CBLAS_INCLUDE_DIR}" "${_hs_linalg}")

# LAPACKE: in the LAPACK library, or liblapacke beside it
hsweep_has(LAPACKE_dpotrf _hs_lapacke_in "${_hs_linalg}")
set(_hs_lapacke)
if(NOT _hs_lapacke_in)
  find_library(HSWEEP_LAPACKE_LIBRARY NAMES lapacke)
  if(NOT HSWEEP_LAPACKE_LIBRARY)
    message(FATAL_ERROR "hsweep: LAPACKE not in the LAPACK (${LAPACK_LIBRARIES}) and no liblapacke found. "
                        "${_hs_blas_hint}")
  endif()
  set(_hs_lapacke ${HSWEEP_LAPACKE_LIBRARY})
endif()
hsweep_dep_target(lapacke "${HSWEEP_LAPACKE_INCLUDE_DIR}" "${_hs_lapacke};${_hs_linalg}")

# ScaLAPACK (with its BLACS): given, in the BLAS (LibSci), or a library of its MPI's flavour.
if(NOT DEFINED SCALAPACK_LIBRARIES)
  hsweep_has(pdpotrf_ _hs_scalapack_in "${_hs_linalg};${MPI_C_LIBRARIES}")
  if(_hs_scalapack_in)
    set(SCALAPACK_LIBRARIES "")
  else()
    # Debian names the library after the MPI (libscalapack-openmpi); a module's is libscalapack
    find_library(HSWEEP_SCALAPACK_LIBRARY NAMES scalapack scalapack-openmpi scalapack-mpich)
    if(NOT HSWEEP_SCALAPACK_LIBRARY)
      message(FATAL_ERROR "hsweep: ScaLAPACK not found. ${HSWEEP_APT_HINT} libscalapack-openmpi-dev "
                          "(elsewhere: -DSCALAPACK_LIBRARIES=<libraries>, e.g. MKL's "
                          "\"mkl_scalapack_lp64;mkl_blacs_openmpi_lp64\")")
    endif()
    set(SCALAPACK_LIBRARIES ${HSWEEP_SCALAPACK_LIBRARY})
  endif()
endif()
hsweep_dep_target(scalapack "" "${SCALAPACK_LIBRARIES};${_hs_lapacke};${_hs_linalg};MPI::MPI_C")

# Vendor thread controls: src/util/blas.c calls one only where the library has it.
set(HSWEEP_BLAS_DEFINITIONS)
set(HSWEEP_BLAS_VENDOR_FOUND "none")
hsweep_has(openblas_set_num_threads _hs_openblas "${_hs_linalg}")
# MKL's C name; mkl_set_num_threads is a macro for it in mkl_service.h
hsweep_has(MKL_Set_Num_Threads _hs_mkl "${_hs_linalg}")
hsweep_has(bli_thread_set_num_threads _hs_blis "${_hs_linalg}")
foreach(_v OPENBLAS MKL BLIS)
  string(TOLOWER ${_v} _l)
  if(_hs_${_l})
    list(APPEND HSWEEP_BLAS_DEFINITIONS HSWEEP_HAVE_${_v})
    set(HSWEEP_BLAS_VENDOR_FOUND ${_v})
  endif()
endforeach()
string(REPLACE ";" " " _hs_shown "${_hs_linalg}")
message(STATUS "hsweep: BLAS/LAPACK (vendor controls: ${HSWEEP_BLAS_VENDOR_FOUND}): ${_hs_shown}")
if(_hs_lapacke)
  message(STATUS "hsweep: LAPACKE: ${_hs_lapacke}")
endif()
message(STATUS "hsweep: ScaLAPACK: ${SCALAPACK_LIBRARIES}")
