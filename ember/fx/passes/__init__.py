"""ember.fx.passes: passes over FX graphs (matches `torch.fx.passes`)."""

from ember.fx.passes import shape_prop  # noqa: F401
