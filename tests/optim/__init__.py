"""Tests for ember.optim."""
