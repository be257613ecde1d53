"""`torch` in a process that `ember run`'s script starts with the spawn method.

NOTE [Serving torch to spawned children]
A child started with multiprocessing's "spawn" (or "forkserver") method is a fresh interpreter
that re-imports the script; the parent's import hook is not there. It does get the parent's
sys.path, and `ember run` puts this directory on it, so the child's `import torch` lands here:
this module installs the same hook (ember/cli/run.py) and hands back ember itself.
"""

import sys

from ember.cli.run import install  # importing it has imported the ember package itself

install()
sys.modules[__name__] = sys.modules["ember"]
