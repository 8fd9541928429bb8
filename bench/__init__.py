"""Benchmarks: Atende against a naive aiortc server and Janus (see bench/README.md)."""
