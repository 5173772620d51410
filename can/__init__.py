"""The Creative Adversarial Network on art genres, after seed 004 (Ahn, Lee and Huang's UCLA
implementation of Elgammal et al. 2017); `train.py` runs it."""
