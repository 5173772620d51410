"""Shared library of creative-gans: data, class removal, metrics, plotting, the one training
harness and the shared command-line flags. Imports no experiment and reads no flags."""
