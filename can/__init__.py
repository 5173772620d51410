"""The Creative Adversarial Network of Elgammal et al. 2017 on art genres, as Ahn, Lee and Huang's
UCLA implementation ("Implementing Creative Adversarial Networks", seed 004) built it; `train.py`
runs it."""
