"""ember.hub: the parts of `torch.hub` that training scripts use to fetch checkpoints.

Downloads go to PyTorch's own cache folder (`$TORCH_HOME/hub/checkpoints`, or the folder given
to `set_dir`), so a file placed there, or already downloaded by PyTorch, is used without any
network. `load`/`list`/`help` would download and run a repository's hubconf.py: ember refuses.
"""

import hashlib
import os
import shutil
import tempfile
import urllib.request

from ember.vision.models import _api

__all__ = ["download_url_to_file", "get_dir", "help", "list", "load",
           "load_state_dict_from_url", "set_dir"]

_HUB_DIR = [None]  # set by set_dir


def get_dir() -> str:
    """The hub cache folder: set_dir's, else $TORCH_HOME/hub (matches `torch.hub.get_dir`)."""
    return _HUB_DIR[0] if _HUB_DIR[0] is not None else _api.get_dir()


def set_dir(d) -> None:
    """Use d as the hub cache folder (matches `torch.hub.set_dir`)."""
    _HUB_DIR[0] = os.path.expanduser(os.fspath(d))


def load_state_dict_from_url(url: str, model_dir=None, map_location=None, progress=True,
                             check_hash: bool = False, file_name=None, weights_only=False):
    """Load a checkpoint from the cache folder, downloading it first if needed (matches
    `torch.hub.load_state_dict_from_url`, whose weights_only default is False)."""
    model_dir = model_dir or os.path.join(get_dir(), "checkpoints")
    return _api.load_state_dict_from_url(url, model_dir, map_location, progress, check_hash,
                                         file_name, weights_only)


def download_url_to_file(url: str, dst: str, hash_prefix=None, progress: bool = True) -> None:
    """Download url to the file dst, checking the SHA-256 prefix if given (matches
    `torch.hub.download_url_to_file`); a partial download never replaces dst."""
    dst = os.path.expanduser(dst)
    folder = os.path.dirname(os.path.abspath(dst))
    digest = hashlib.sha256()
    with tempfile.NamedTemporaryFile(delete=False, dir=folder, suffix=".partial") as out:
        try:
            request = urllib.request.Request(url, headers={"User-Agent": "torch.hub"})
            with urllib.request.urlopen(request) as response:  # noqa: S310 - torch's behaviour
                for chunk in iter(lambda: response.read(8192), b""):
                    out.write(chunk)
                    digest.update(chunk)
            out.close()
            if hash_prefix is not None and not digest.hexdigest().startswith(hash_prefix):
                raise RuntimeError(f'invalid hash value (expected "{hash_prefix}", got '
                                   f'"{digest.hexdigest()}")')
            shutil.move(out.name, dst)
        finally:
            if os.path.exists(out.name):
                os.remove(out.name)


def _remote_code(name):
    def refuse(github, *args, **kwargs):
        raise RuntimeError(
            f"ember.hub.{name}({github!r}, ...) is not supported: it would download and run a "
            "repository's hubconf.py. Build the model from ember.vision.models instead.")
    refuse.__name__ = name
    refuse.__doc__ = f"torch.hub.{name} runs code fetched from GitHub; ember does not."
    return refuse


load, list, help = _remote_code("load"), _remote_code("list"), _remote_code("help")  # noqa: A001
