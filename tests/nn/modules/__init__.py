"""Tests for ember.nn.modules."""
