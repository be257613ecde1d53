"""tests/seeds: the seed programs run end to end (see test_seed_programs.py)."""


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "seed_runs(*keys): the (program, runner) runs of examples/seeds a test reads")
