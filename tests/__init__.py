"""Tests for ember."""
