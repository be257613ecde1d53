"""Files for TensorBoard's Projector tab: what `SummaryWriter.add_embedding` writes.

Layout (as torch): `<log_dir>/<step:05d>/<tag>/tensors.tsv` (one row per point),
`metadata.tsv` (labels, with a header row when there are several columns), `sprite.png`
(the label images tiled in a square), and `<log_dir>/projector_config.pbtxt` listing every
embedding logged so far.
"""

import io
import math
import os

import numpy as np
from google.protobuf import text_format
from tensorboard.plugins.projector.projector_config_pb2 import EmbeddingInfo, ProjectorConfig

from ember.utils.tensorboard._convert import make_grid


def _encode_tag(tag: str) -> str:
    """Escape a tag into one directory name (%, / and \\ as %xx), as torch does."""
    return tag.replace("%", "%25").replace("/", "%2f").replace("\\", "%5c")


def _write_tensors(mat: np.ndarray, save_path: str) -> None:
    rows = ("\t".join(str(v) for v in row) for row in mat.tolist())
    with open(os.path.join(save_path, "tensors.tsv"), "w", encoding="utf-8") as f:
        f.writelines(line + "\n" for line in rows)


def _write_metadata(metadata, save_path: str, metadata_header=None) -> None:
    if metadata_header:
        if len(metadata_header) != len(metadata[0]):
            raise AssertionError(
                "len of header must be equal to the number of columns in metadata")
        lines = ["\t".join(str(e) for e in row) for row in [metadata_header] + list(metadata)]
    else:
        lines = [str(x) for x in metadata]
    with open(os.path.join(save_path, "metadata.tsv"), "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")


def _write_sprite(label_img: np.ndarray, save_path: str) -> None:
    """Tile (N, C, H, W) images in [0, 1] into a square PNG, ceil(sqrt(N)) per row."""
    from PIL import Image

    per_row = math.ceil(label_img.shape[0] ** 0.5)
    grid = make_grid(label_img, ncols=per_row).transpose(1, 2, 0)[:, :, :3]
    square = np.zeros((grid.shape[1], grid.shape[1], 3))
    square[:grid.shape[0]] = grid
    buffer = io.BytesIO()
    Image.fromarray(np.uint8((square * 255).clip(0, 255))).save(buffer, format="PNG")
    with open(os.path.join(save_path, "sprite.png"), "wb") as f:
        f.write(buffer.getvalue())


def add_embedding(log_dir: str, config, mat: np.ndarray, metadata, label_img, global_step: int,
                  tag: str, metadata_header=None) -> ProjectorConfig:
    """Write one embedding's files and the updated projector config; return the config."""
    if mat.ndim != 2:
        raise AssertionError(
            "mat should be 2D, where mat.size(0) is the number of data points")
    subdir = f"{str(global_step).zfill(5)}/{_encode_tag(tag)}"
    save_path = os.path.join(log_dir, subdir)
    if os.path.isfile(save_path):
        raise FileExistsError(f"Path: `{save_path}` exists, but is a file. Cannot proceed.")
    os.makedirs(save_path, exist_ok=True)
    info = EmbeddingInfo(tensor_name=f"{tag}:{str(global_step).zfill(5)}",
                         tensor_path=f"{subdir}/tensors.tsv")
    if metadata is not None:
        if mat.shape[0] != len(metadata):
            raise AssertionError("#labels should equal with #data points")
        _write_metadata(metadata, save_path, metadata_header)
        info.metadata_path = f"{subdir}/metadata.tsv"
    if label_img is not None:
        if mat.shape[0] != label_img.shape[0]:
            raise AssertionError("#images should equal with #data points")
        _write_sprite(label_img, save_path)
        info.sprite.image_path = f"{subdir}/sprite.png"
        info.sprite.single_image_dim.extend([label_img.shape[3], label_img.shape[2]])
    _write_tensors(mat, save_path)
    config = config if config is not None else ProjectorConfig()
    config.embeddings.append(info)
    with open(os.path.join(log_dir, "projector_config.pbtxt"), "w", encoding="utf-8") as f:
        f.write(text_format.MessageToString(config))
    return config
