# bench/format: the trace format's throughput and size benchmark (on demand).
add_executable(bench_format ${CMAKE_CURRENT_SOURCE_DIR}/format/bench_format.c)
target_link_libraries(bench_format PRIVATE pyi_format)
