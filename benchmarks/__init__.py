"""Benchmarks: they run the entry scripts as a user does and write benchmarks/results/ and
BENCHMARKS.md. Run them from the repository root (`python -m benchmarks.bench_vae`) or with the
make targets."""
