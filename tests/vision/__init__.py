"""Tests for ember.vision."""
