"""Large vector files are read row by row and give the same rows as the array."""
import numpy as np
import pytest

from qa.config import Settings
from qa.errors import IndexUnavailable
from qa.index import rows


@pytest.fixture
def saved(tmp_path):
    array = np.arange(50 * 8, dtype=np.float32).reshape(50, 8)
    np.save(tmp_path / "v.npy", array)
    return tmp_path / "v.npy", array


def test_rows_read_on_demand_equal_the_array(saved):
    path, array = saved
    reader = rows.open_rows(path, 0)
    assert isinstance(reader, rows.Rows) and len(reader) == 50 and reader.shape == (50, 8)
    ids = np.array([7, 8, 9, 0, 49, 48, 3])
    assert np.array_equal(reader[ids], array[ids])
    assert np.array_equal(reader @ array[1], array @ array[1])


def test_truncated_file_is_reported(saved):
    path, _ = saved
    with open(path, "r+b") as f:
        f.truncate(path.stat().st_size - 8 * 4)
    with pytest.raises(IndexUnavailable, match="shorter than its header"):
        rows.open_rows(path, 0)[np.array([49])]


def test_small_files_are_loaded(tmp_path):
    np.save(tmp_path / "v.npy", np.ones((2, 3), np.float32))
    assert isinstance(rows.open_rows(tmp_path / "v.npy", Settings().in_memory_bytes), np.ndarray)
