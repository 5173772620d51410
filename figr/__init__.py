"""FIGR: few-shot image generation with a GAN meta-trained by Reptile (report section 2.6);
`train.py` meta-trains, `generate.py` adapts a trained run to new shots."""
