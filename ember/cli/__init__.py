"""The `ember` command line: `ember train` and `ember run`."""
