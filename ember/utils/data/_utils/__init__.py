"""`torch.utils.data._utils`: the collate module scripts import to extend batching."""

from ember.utils.data._utils import collate  # noqa: F401
