"""A differential fuzzer: random programs in adjoint's subset, checked against finite differences.

``generator`` draws programs, ``checks`` runs the differential checks on one,
``runner`` loads, checks and shrinks many, ``families`` says which constructs
CI turns on. ``python -m tests.fuzz --help`` runs any number (docs/testing.md).
"""
