"""Tests for ember.ops."""
