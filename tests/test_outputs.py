"""Progression rows from snapshot files (FIGR's progress/, CAN's samples/)."""

import numpy as np

from common import files, outputs


def test_snapshot_rows_pick_first_and_last_evenly(tmp_path):
    for step in (10, 20, 30, 40, 50):
        files.write_npz(
            str(tmp_path / f"iter_{step:06d}.npz"), samples=np.full((5, 2, 2, 1), step, np.float32)
        )
    rows = outputs.snapshot_rows(str(tmp_path), "iter", max_rows=3, per_row=4)
    assert [label for label, _ in rows] == ["iter 10", "iter 30", "iter 50"]
    assert rows[1][1].shape == (4, 2, 2, 1) and float(rows[1][1].max()) == 30.0
    assert outputs.snapshot_rows(str(tmp_path / "none"), "iter", 3, 4) == []
