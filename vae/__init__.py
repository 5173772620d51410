"""The VAE with a class removed or kept as a few shots (report sections 2.5-2.6); `VAE.py` runs it."""
