"""Tests for ember.autograd."""
