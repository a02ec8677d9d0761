"""The error map a comparison keeps: where a tensor is wrong, at a bounded size, for every shape."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from gradcheck.compare import compare
from gradcheck.error_map import LOG_RANGE, MAX_PAIRS, MAX_SIDE


def cells(record) -> np.ndarray:
    return np.array([[np.nan if v is None else v for v in row] for row in record.error_map.cells], dtype=float)


@settings(max_examples=40, deadline=None)
@given(rows=st.integers(2, 300), cols=st.integers(2, 300), data=st.data())
def test_one_wrong_row_or_column_is_red_there_and_nowhere_else(rows, cols, data):
    truth = np.random.default_rng(rows * 1000 + cols).standard_normal((rows, cols))
    yours = truth.copy()
    axis = data.draw(st.sampled_from(["row", "column"]))
    k = data.draw(st.integers(0, (rows if axis == "row" else cols) - 1))
    if axis == "row":
        yours[k] += 1e-3
    else:
        yours[:, k] *= -1
    record = compare(yours, truth, tensor="W1")
    m = record.error_map
    assert max(len(m.cells), len(m.cells[0])) <= MAX_SIDE
    wrong = cells(record) > 0
    band = k // m.block[0 if axis == "row" else 1]  # the cell holding row/column k
    if axis == "row":
        assert wrong[band].all() and wrong.sum() == wrong.shape[1]
    else:
        assert wrong[:, band].all() and wrong.sum() == wrong.shape[0]


def test_a_single_wrong_entry_of_a_large_matrix_survives_pooling():
    truth = np.random.default_rng(0).standard_normal((784, 128))
    yours = truth.copy()
    yours[517, 99] *= 1 + 1e-6  # a relative error of 1e-6: 100x the float64 tolerance
    record = compare(yours, truth, tensor="W1")
    m = record.error_map
    assert m.shape == (784, 128) and m.block == (7, 1) and len(m.cells) == 112
    wrong = np.argwhere(cells(record) > 0)
    assert wrong.tolist() == [[517 // 7, 99]]
    assert m.pairs[0] == (float(f"{truth[517, 99]:.6g}"), float(f"{yours[517, 99]:.6g}"), True)  # the worst first
    assert not any(wrong for _, _, wrong in m.pairs[1:])


def test_a_sign_flip_puts_every_sampled_pair_on_the_other_diagonal():
    truth = np.random.default_rng(1).standard_normal((40, 30))
    record = compare(-truth, truth, tensor="W2")
    pairs = np.array(record.error_map.pairs, dtype=float)
    assert 100 <= len(pairs) <= MAX_PAIRS
    np.testing.assert_allclose(pairs[:, 1], -pairs[:, 0], rtol=1e-5)
    assert pairs[:, 2].all()  # every one of them wrong


def test_entries_not_judged_are_marked_and_never_counted_as_agreeing_or_wrong():
    truth = np.random.default_rng(2).standard_normal((6, 5))
    checkable = np.ones_like(truth, dtype=bool)
    checkable[:, 2] = False  # a column fed by a unit on a kink
    yours = truth.copy()
    yours[:, 2] = 99.0  # wrong there, but nothing judges it
    record = compare(yours, truth, tensor="W1", checkable=checkable)
    assert record.passed
    grid = cells(record)
    assert np.isnan(grid[:, 2]).all()
    assert (np.delete(grid, 2, axis=1) <= 0).all()


def test_a_wrong_gradient_beside_unjudged_entries_is_still_red():
    truth = np.random.default_rng(3).standard_normal((6, 5))
    checkable = np.ones_like(truth, dtype=bool)
    checkable[:, 2] = False
    yours = truth.copy()
    yours[4, 0] += 1.0
    record = compare(yours, truth, tensor="W1", checkable=checkable)
    assert record.failed
    grid = cells(record)
    assert grid[4, 0] > 0 and np.isnan(grid[:, 2]).all()


def test_conv_weights_become_one_tile_per_filter():
    truth = np.random.default_rng(4).standard_normal((8, 3, 5, 5))
    yours = truth.copy()
    yours[6, 1] += 0.5  # filter 6, one channel
    record = compare(yours, truth, tensor="conv dw")
    m = record.error_map
    assert (m.tiles, m.shape, m.block) == (8, (40, 5), (1, 1))
    wrong = (cells(record) > 0).reshape(8, 5, 5).any(axis=(1, 2))
    assert wrong.tolist() == [k == 6 for k in range(8)]


def test_nan_in_yours_is_the_worst_colour_and_a_vector_is_one_row():
    truth = np.arange(1.0, 11.0)
    yours = truth.copy()
    yours[3] = np.nan
    record = compare(yours, truth, tensor="b1")
    grid = cells(record)
    assert grid.shape == (1, 10) and grid[0, 3] == LOG_RANGE[1] and (np.delete(grid, 3) <= 0).all()
    assert all(np.isfinite(p).all() for p in record.error_map.pairs)  # the NaN entry is not a pair


def test_a_scalar_and_a_passing_tensor_keep_no_map():
    assert compare(1.0, 2.0, tensor="loss").error_map is None
    truth = np.random.default_rng(5).standard_normal((30, 20))
    assert compare(truth * (1 + 1e-12), truth, tensor="W1").error_map is None


def test_the_map_is_plain_data_that_json_round_trips():
    import json

    truth = np.random.default_rng(6).standard_normal((7, 9))
    record = compare(truth + 1, truth, tensor="W1")
    data = record.error_map.to_dict()
    assert json.loads(json.dumps(data)) == data
