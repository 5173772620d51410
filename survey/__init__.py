"""The poster's human evaluation (Q1-Q6) as a web study: `make_study.py` builds it, `serve.py`
serves it, `analyze.py` reads the answers."""
