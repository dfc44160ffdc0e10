# hsweepHDF5.cmake - the parallel HDF5 as hsweep::hdf5; shared by the build and the installed
# package (hsweepConfig.cmake), so both take the same flavour. The caller checks HDF5_IS_PARALLEL.
set(HDF5_PREFER_PARALLEL TRUE)
if(CMAKE_FIND_PACKAGE_NAME) # inside a package config: find_dependency forwards QUIET/REQUIRED
  find_dependency(HDF5 COMPONENTS C)
else()
  find_package(HDF5 QUIET COMPONENTS C)
endif()
if(HDF5_FOUND AND NOT TARGET hsweep::hdf5)
  add_library(hsweep::hdf5 INTERFACE IMPORTED GLOBAL)
  target_include_directories(hsweep::hdf5 INTERFACE ${HDF5_C_INCLUDE_DIRS})
  target_link_libraries(hsweep::hdf5 INTERFACE ${HDF5_C_LIBRARIES} MPI::MPI_C)
  target_compile_definitions(hsweep::hdf5 INTERFACE ${HDF5_C_DEFINITIONS})
endif()
