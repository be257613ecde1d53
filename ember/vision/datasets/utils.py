"""Download, checksum and extraction helpers for the datasets (matches
`torchvision.datasets.utils`).

NOTE [Offline downloads]
A download tries each mirror with a short timeout. When every mirror fails (no network, a
firewall, a moved file), the error names the URLs tried and the folder where the user can put
the files by hand, so that the next run finds them and never touches the network.
"""

import gzip
import hashlib
import os
import shutil
import tarfile
import urllib.error
import urllib.request
import zipfile

USER_AGENT = "ember/vision"
TIMEOUT = 10.0


def calculate_md5(fpath: str, chunk_size: int = 1024 * 1024) -> str:
    """The MD5 hex digest of a file (matches `torchvision.datasets.utils.calculate_md5`)."""
    md5 = hashlib.md5()
    with open(fpath, "rb") as f:
        for chunk in iter(lambda: f.read(chunk_size), b""):
            md5.update(chunk)
    return md5.hexdigest()


def check_md5(fpath: str, md5: str, **kwargs) -> bool:
    return md5 == calculate_md5(fpath, **kwargs)


def check_integrity(fpath: str, md5=None) -> bool:
    """True if the file exists and (when md5 is given) has that checksum."""
    if not os.path.isfile(fpath):
        return False
    if md5 is None:
        return True
    return check_md5(fpath, md5)


def _fetch(url: str, fpath: str) -> None:
    """Stream url into fpath through a temporary file (no partial file is left behind)."""
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
    tmp = fpath + ".part"
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT) as response, \
                open(tmp, "wb") as out:
            shutil.copyfileobj(response, out)
        os.replace(tmp, fpath)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def download_url(url, root: str, filename=None, md5=None, max_redirect_hops: int = 3) -> None:
    """Download a file (or the first mirror that works, for a list of URLs) into root.

    Matches `torchvision.datasets.utils.download_url`; raises RuntimeError naming the URLs and
    the folder to put the file in when no mirror can be reached, and when the MD5 is wrong.
    """
    urls = [url] if isinstance(url, str) else list(url)
    root = os.path.expanduser(root)
    filename = filename or os.path.basename(urls[0])
    fpath = os.path.join(root, filename)
    os.makedirs(root, exist_ok=True)
    if check_integrity(fpath, md5):
        return
    errors = []
    for candidate in urls:
        print(f"Downloading {candidate} to {fpath}")
        try:
            _fetch(candidate, fpath)
        except (urllib.error.URLError, OSError, ValueError) as error:
            errors.append(f"{candidate} ({getattr(error, 'reason', error)})")
            if candidate != urls[-1]:
                print(f"Failed to download (trying next):\n{errors[-1]}")
            continue
        if not check_integrity(fpath, md5):
            os.remove(fpath)
            raise RuntimeError(
                f"File {filename} downloaded from {candidate} is corrupted: MD5 mismatch "
                f"(expected {md5}).")
        return
    raise RuntimeError(
        f"Could not download {filename}: tried {', '.join(errors)}. If you are offline, "
        f"download it by other means and put it in {os.path.abspath(root)}")


def _detect_archive(path: str) -> str:
    lower = path.lower()
    for suffix in (".tar.gz", ".tgz", ".tar.bz2", ".tbz", ".tar.xz", ".tar", ".zip", ".gz"):
        if lower.endswith(suffix):
            return suffix
    raise RuntimeError(f"Archive type of {path} is not supported")


def extract_archive(from_path: str, to_path=None, remove_finished: bool = False) -> str:
    """Extract a .tar(.gz/.bz2/.xz), .zip or .gz file; returns the folder (or file) written."""
    to_path = to_path or os.path.dirname(from_path)
    suffix = _detect_archive(from_path)
    if suffix == ".zip":
        with zipfile.ZipFile(from_path) as archive:
            archive.extractall(to_path)
    elif suffix == ".gz":
        target = os.path.join(to_path, os.path.basename(from_path)[:-3])
        with gzip.open(from_path, "rb") as src, open(target, "wb") as dst:
            shutil.copyfileobj(src, dst)
        to_path = target
    else:
        with tarfile.open(from_path) as archive:
            _safe_extract(archive, to_path)
    if remove_finished:
        os.remove(from_path)
    return to_path


def _safe_extract(archive: tarfile.TarFile, to_path: str) -> None:
    """Extract refusing members that would land outside to_path."""
    root = os.path.realpath(to_path)
    for member in archive.getmembers():
        target = os.path.realpath(os.path.join(to_path, member.name))
        if os.path.commonpath([root, target]) != root:
            raise RuntimeError(f"Refusing to extract {member.name} outside {to_path}")
    archive.extractall(to_path)


def download_and_extract_archive(url, download_root: str, extract_root=None, filename=None,
                                 md5=None, remove_finished: bool = False) -> None:
    """Download an archive and extract it (matches torchvision's helper of that name)."""
    download_root = os.path.expanduser(download_root)
    extract_root = extract_root or download_root
    urls = [url] if isinstance(url, str) else list(url)
    filename = filename or os.path.basename(urls[0])
    download_url(urls, download_root, filename, md5)
    archive = os.path.join(download_root, filename)
    print(f"Extracting {archive} to {extract_root}")
    extract_archive(archive, extract_root, remove_finished)
