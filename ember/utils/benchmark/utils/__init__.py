"""ember.utils.benchmark.utils: the Timer, Measurement, Compare and Fuzzer modules."""
