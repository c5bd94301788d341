"""A corpus of programs written the way scientists write them (see test_realistic.py)."""
