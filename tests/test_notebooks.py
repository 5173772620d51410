"""The notebooks in notebooks/ run top to bottom (CREATIVE_GANS_QUICK=1: tiny settings; the VAE's
on IDX files the test writes), so they never rot."""

import os

import nbformat
import pytest

from tests.conftest import ROOT
from tests.image_fixtures import write_tiny_idx

NOTEBOOKS = sorted(f for f in os.listdir(os.path.join(ROOT, "notebooks")) if f.endswith(".ipynb"))


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_runs_top_to_bottom(name, tmp_path, monkeypatch):
    from nbclient import NotebookClient

    monkeypatch.setenv("CREATIVE_GANS_QUICK", "1")
    monkeypatch.setenv("CREATIVE_GANS_NOTEBOOK_OUT", str(tmp_path / "runs"))
    monkeypatch.setenv("CREATIVE_GANS_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("CREATIVE_GANS_DATA_DIR", write_tiny_idx(str(tmp_path / "idx")))
    monkeypatch.setenv("PYTHONPATH", ROOT)  # this checkout's common/, whatever is installed
    book = nbformat.read(os.path.join(ROOT, "notebooks", name), as_version=4)
    client = NotebookClient(
        book,
        timeout=300,
        kernel_name="python3",
        resources={"metadata": {"path": os.path.join(ROOT, "notebooks")}},
    )
    client.execute()
    outputs = [o for cell in book.cells if cell.cell_type == "code" for o in cell.get("outputs", [])]
    assert not [o for o in outputs if o.output_type == "error"]
    assert sum(o.output_type == "display_data" and "image/png" in o.get("data", {}) for o in outputs) >= 2
    assert os.listdir(tmp_path / "runs")
