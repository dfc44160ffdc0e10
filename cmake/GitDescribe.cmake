# GitDescribe.cmake - cmake -DSRC=<tree> -DOUT=<header> -P GitDescribe.cmake
# Writes `git describe --always --dirty` of the tree as HSWEEP_GIT_DESCRIBE ("unknown" outside git,
# or without git), rewriting the header only when the text changed, so a build recompiles the one
# file that includes it only after a commit or an edit of the tree.
execute_process(COMMAND git -C "${SRC}" describe --always --dirty
                OUTPUT_VARIABLE desc RESULT_VARIABLE rc ERROR_QUIET OUTPUT_STRIP_TRAILING_WHITESPACE)
if(NOT rc EQUAL 0 OR desc STREQUAL "")
  set(desc "unknown")
endif()
set(text "#define HSWEEP_GIT_DESCRIBE \"${desc}\"\n")
if(EXISTS "${OUT}")
  file(READ "${OUT}" old)
endif()
if(NOT "${old}" STREQUAL "${text}")
  file(WRITE "${OUT}" "${text}")
endif()
