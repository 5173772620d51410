"""InfoGAN and its siblings GAN, CGAN and ACGAN with classes removed (report section 2.4); `main.py`
runs them."""
