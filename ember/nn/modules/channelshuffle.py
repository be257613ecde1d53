"""nn.ChannelShuffle (matches `torch.nn.ChannelShuffle`)."""

from ember.nn.modules.module import Module
from ember.nn.functional import channel_shuffle

__all__ = ["ChannelShuffle"]


class ChannelShuffle(Module):
    """Interleave the channels of `groups` groups, as ShuffleNet does."""

    def __init__(self, groups: int) -> None:
        super().__init__()
        self.groups = groups

    def forward(self, input):
        return channel_shuffle(input, self.groups)

    def extra_repr(self) -> str:
        return f"groups={self.groups}"
