"""Tests for ember.nn.utils."""
