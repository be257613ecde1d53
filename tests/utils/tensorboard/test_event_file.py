"""The event-file format (ember/utils/tensorboard/_event_file.py, _crc32c.py): TFRecord
framing and CRC32C as TensorBoard reads them."""

import os
import re
import socket
import struct
import subprocess
import sys

import numpy as np
import pytest
from tensorboard.compat.proto.event_pb2 import Event
from tensorboard.compat.tensorflow_stub.pywrap_tensorflow import masked_crc32c as tb_masked_crc

from ember.utils.tensorboard import SummaryWriter
from ember.utils.tensorboard._crc32c import crc32c, masked_crc32c


# ---- the file format ---------------------------------------------------------------------------
@pytest.mark.parametrize("size", [0, 1, 3, 4, 5, 8, 63, 64, 100, 4097, 70001])
def test_crc32c_matches_tensorboard(size):
    data = np.random.default_rng(size).integers(0, 256, size, dtype=np.uint8).tobytes()
    assert masked_crc32c(data) == tb_masked_crc(data)


def test_crc32c_check_value():
    assert crc32c(b"123456789") == 0xE3069283  # the standard CRC-32C check value
    assert crc32c(b"") == 0


def test_event_file_name_and_framing(tmp_path):
    with SummaryWriter(str(tmp_path), filename_suffix=".v2") as writer:
        writer.add_scalar("x", 1.5, 3)
    (name,) = os.listdir(tmp_path)
    pattern = (r"events\.out\.tfevents\.\d{10}\." + re.escape(socket.gethostname())
               + r"\." + str(os.getpid()) + r"\.\d+\.v2$")
    assert re.match(pattern, name)
    data = (tmp_path / name).read_bytes()
    events, offset = [], 0
    while offset < len(data):
        header = data[offset:offset + 8]
        (length,) = struct.unpack("<Q", header)
        assert struct.unpack("<I", data[offset + 8:offset + 12])[0] == tb_masked_crc(header)
        body = data[offset + 12:offset + 12 + length]
        assert struct.unpack("<I", data[offset + 12 + length:offset + 16 + length])[0] == \
            tb_masked_crc(body)
        events.append(Event.FromString(body))
        offset += 16 + length
    assert events[0].file_version == "brain.Event:2"
    assert events[1].step == 3 and events[1].summary.value[0].simple_value == 1.5


def test_default_log_dir_like_torch(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    writer = SummaryWriter(comment="_lr0.1")
    writer.close()
    expected = re.escape(os.path.join("runs", "")) + r"[A-Z][a-z]{2}\d{2}_\d{2}-\d{2}-\d{2}_" \
        + re.escape(socket.gethostname()) + "_lr0.1$"
    assert re.match(expected, writer.log_dir)
    assert writer.get_logdir() == writer.log_dir
    assert len(os.listdir(writer.log_dir)) == 1


def test_import_error_names_the_extra():
    code = ("import sys; sys.modules['tensorboard'] = None\n"
            "try:\n    import ember.utils.tensorboard\n"
            "except ImportError as e:\n    print(e)\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=60)
    assert 'pip install "ember[tensorboard]"' in result.stdout, result.stderr
