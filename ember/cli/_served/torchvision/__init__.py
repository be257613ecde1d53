"""`torchvision` in a spawned child of `ember run` (see NOTE [Serving torch to spawned children]
in ember/cli/_served/torch/__init__.py)."""

import sys

import ember.vision
from ember.cli.run import install

install()
sys.modules[__name__] = ember.vision
