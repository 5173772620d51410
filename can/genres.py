"""The seven genres of Ahn et al.'s CAN experiments (no TensorFlow here: train.py's --help reads it)."""

SEED_GENRES = ("cubism", "early renaissance", "fauvism", "pointillism", "pop art", "realism", "ukiyo-e")
