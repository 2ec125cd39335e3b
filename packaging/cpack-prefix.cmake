# CPACK_PRE_BUILD_SCRIPTS (packaging/CMakeLists.txt): run by cpack after it installed into its
# staging directory. The drop-in and oci.conf were configured with the build's install prefix
# (/usr/local by default); the package installs nook as /usr/bin/nook, so they must say so.
foreach(f ${CPACK_NOOK_REWRITE})
  set(staged ${CPACK_TEMPORARY_INSTALL_DIRECTORY}${f})
  if(NOT EXISTS ${staged})
    message(FATAL_ERROR "cpack-prefix.cmake: ${staged} is not staged")
  endif()
  file(READ ${staged} text)
  string(REPLACE "${CPACK_NOOK_CONFIGURED_BIN}" "${CPACK_NOOK_PACKAGED_BIN}" text "${text}")
  file(WRITE ${staged} "${text}")
endforeach()
