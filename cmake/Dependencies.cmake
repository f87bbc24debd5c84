# Third-party libraries, all from Debian packages installed by scripts/install-deps.sh.
find_package(Threads REQUIRED)
find_package(nlohmann_json 3.10 REQUIRED)
find_package(CLI11 REQUIRED)
find_package(fmt REQUIRED)
find_package(PkgConfig REQUIRED)
pkg_check_modules(PCRE2 REQUIRED IMPORTED_TARGET libpcre2-8)
# cpp-httplib (libcpp-httplib-dev) for `llcuda serve` (docs/server.md); optional: without it the
# serve command reports that it was not built.
pkg_check_modules(HTTPLIB QUIET IMPORTED_TARGET cpp-httplib)
# libcurl (libcurl4-openssl-dev) to download models from the Hugging Face hub (docs/model-cache.md);
# optional: without it a model name missing from the cache is an error saying so.
pkg_check_modules(CURL QUIET IMPORTED_TARGET libcurl)
pkg_check_modules(LIBEDIT QUIET IMPORTED_TARGET libedit)
if(LLCUDA_BUILD_TESTS)
  find_package(GTest REQUIRED)
endif()
if(LLCUDA_BUILD_BENCH)
  find_package(benchmark QUIET)
  if(NOT benchmark_FOUND)
    set(LLCUDA_BUILD_BENCH OFF)
  endif()
endif()
