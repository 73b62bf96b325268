"""Benchmarks, run as `python -m bench` (make bench): codec and host ingest against in-run baselines."""
