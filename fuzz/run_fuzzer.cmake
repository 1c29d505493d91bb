# Runs one fuzzer for a fixed time on a copy of its seed corpus (ctest -L fuzz).
# In: FUZZER (binary), SEEDS (checked-in corpus), DICT (optional dictionary), WORK (scratch
# dir), DEFAULT_SECONDS.
# Env FUZZ_SECONDS overrides the time. A finding leaves its input in WORK/crash-* etc.
set(seconds ${DEFAULT_SECONDS})
if(DEFINED ENV{FUZZ_SECONDS} AND NOT "$ENV{FUZZ_SECONDS}" STREQUAL "")
  set(seconds $ENV{FUZZ_SECONDS})
endif()
file(REMOVE_RECURSE ${WORK})
file(MAKE_DIRECTORY ${WORK})
file(COPY ${SEEDS}/ DESTINATION ${WORK}/corpus)
# A dictionary (fuzz/<target>.dict: the field names the parser looks for) lets mutations
# produce them instead of waiting to guess them byte by byte.
set(dict_arg "")
if(EXISTS ${DICT})
  set(dict_arg -dict=${DICT})
endif()
execute_process(
  COMMAND ${FUZZER} -max_total_time=${seconds} -rss_limit_mb=2048 -timeout=10
          -print_final_stats=1 -artifact_prefix=${WORK}/ ${dict_arg} ${WORK}/corpus
  WORKING_DIRECTORY ${WORK}
  RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "${FUZZER} found a problem (exit ${rc}); inputs are in ${WORK}")
endif()
