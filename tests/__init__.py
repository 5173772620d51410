"""The test suite (pytest; `make test`)."""
