"""Benchmarks of checkd: synthetic data, the bench against a no-op baseline, the year replay, locust."""
