"""Decide: the in-memory index, the pure decision engine and the immutable snapshots it reads."""
