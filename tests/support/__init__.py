"""What the tests share: servers, databases, clients, and readers of logs and metrics.

Test modules and conftest files import helpers from here only, never from a conftest.py or
from another test module; bench/ may import from here too, but nothing here imports bench.
"""
