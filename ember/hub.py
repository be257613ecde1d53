"""ember.hub: the parts of `torch.hub` that training scripts use to fetch checkpoints.

Downloads go to PyTorch's own cache folder (`$TORCH_HOME/hub/checkpoints`), so a file placed
there, or already downloaded by PyTorch, is used without any network.
"""

from ember.vision.models._api import get_dir, load_state_dict_from_url

__all__ = ["get_dir", "load_state_dict_from_url", "load"]


def load(repo_or_dir, model, *args, **kwargs):
    """torch.hub.load runs code fetched from GitHub; ember does not fetch and run remote code."""
    raise RuntimeError(
        f"ember.hub.load({repo_or_dir!r}, {model!r}) is not supported: it would download and run "
        "a repository's hubconf.py. Build the model from ember.vision.models instead.")
