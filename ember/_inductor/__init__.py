"""`torch._inductor`: present so scripts can tune it (`torch._inductor.config.x = ...`); ember
has no code generator, so nothing reads these settings (NOTE [torch.compile runs eagerly])."""

from ember._inductor import config  # noqa: F401
