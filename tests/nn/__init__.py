"""Tests for ember.nn."""
