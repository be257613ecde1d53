"""ember.utils.benchmark.utils.valgrind_wrapper: Callgrind result containers (no Valgrind runs)."""
