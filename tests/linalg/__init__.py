"""Tests for ember.linalg and the top-level linear-algebra ops."""
