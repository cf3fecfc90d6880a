"""Helpers shared by the collection's tests (importable as `support` from tests/, or `tests.support`)."""
