"""ember.distributed.distributed_c10d (served as `torch.distributed.distributed_c10d`): the module
torch defines its process-group API in; scripts import from it directly."""

from ember.distributed import *  # noqa: F403 - the same API under torch's module name
from ember.distributed import __all__ as _public
from ember.distributed.process_group import GroupMember, resolve


def _get_default_group():
    """The default process group (torch's private helper, used by many scripts)."""
    return resolve(None)


def _rank_not_in_group(group) -> bool:
    """Whether this process is outside `group` (None: the default group, never outside)."""
    return group is GroupMember.NON_GROUP_MEMBER


__all__ = list(_public)
