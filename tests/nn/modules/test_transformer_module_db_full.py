"""PyTorch's module_db entries for nn.Transformer, run in ember and compared with torch (see
_transformer_module_db.py)."""

import pytest

from tests.nn.modules._transformer_module_db import check_entry, module_db_cases


@pytest.mark.parametrize("info,index,dtype", module_db_cases(("Transformer",)))
def test_module_db(info, index, dtype):
    check_entry(info, index, dtype)
