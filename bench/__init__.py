"""`make bench`: the service's numbers under load, against a framework-free ceiling.

Run as `python -m bench` (see `__main__.py`); results go to docs/benchmarks.md.
"""
