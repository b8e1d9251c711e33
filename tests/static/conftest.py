"""The static tier: linters and validators, nothing running. Its helpers are in statictools.py, which the
proofs here and the tests of tests/static/machinery/ import alike (pytest puts this folder on sys.path
when it loads this file)."""
