"""The seven genres of seed 004's CAN experiments (no TensorFlow here: train.py's --help reads it)."""

SEED_GENRES = ("cubism", "early renaissance", "fauvism", "pointillism", "pop art", "realism", "ukiyo-e")
