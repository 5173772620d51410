"""A class-conditional denoising diffusion model (DDPM with the v-parameterisation, classifier-free
guidance, DDIM sampling), the league's newest family; `train.py` runs it."""
