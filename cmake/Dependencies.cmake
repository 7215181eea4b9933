# Third-party dependencies, all from Debian packages (scripts/install-deps.sh):
# zstd, msgpack-c 4 (C library "msgpackc"), Threads, and GoogleTest for tests.
find_package(Threads REQUIRED)

find_package(zstd CONFIG QUIET)
if(TARGET zstd::libzstd_shared)
  set(PYI_ZSTD zstd::libzstd_shared)
else()
  find_package(PkgConfig REQUIRED)
  pkg_check_modules(ZSTD REQUIRED IMPORTED_TARGET libzstd)
  set(PYI_ZSTD PkgConfig::ZSTD)
endif()

# Debian bookworm: msgpack-c 4.0 installs CMake package "msgpack" with target
# msgpackc; libmsgpack-cxx-dev installs another "msgpack" that needs Boost, so
# check for the C target and fall back to pkg-config (msgpack-c 6: "msgpack-c").
find_package(msgpack 4.0 CONFIG QUIET)
if(TARGET msgpackc)
  set(PYI_MSGPACK msgpackc)
else()
  find_package(PkgConfig REQUIRED)
  pkg_check_modules(MSGPACK IMPORTED_TARGET msgpack-c)
  if(NOT MSGPACK_FOUND)
    pkg_check_modules(MSGPACK REQUIRED IMPORTED_TARGET msgpack)
  endif()
  set(PYI_MSGPACK PkgConfig::MSGPACK)
endif()

if(PYI_BUILD_TESTS)
  find_package(GTest REQUIRED)
  include(GoogleTest)
endif()
