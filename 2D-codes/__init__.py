"""The 2-d experiments (report sections 2.2-2.3), importable as `toy2d`: the folder keeps the
report's name, `2D-codes/`, and its scripts (`STYLEGAN.py`, `CGAN.py`) run from it as printed."""
