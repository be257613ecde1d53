"""Tests for ember.utils."""
