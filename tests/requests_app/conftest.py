"""Fixtures of the request-queue tests live in tests/conftest.py; helpers in tests/helpers.py."""
