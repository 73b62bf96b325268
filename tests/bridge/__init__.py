"""Tests of the bridge service."""
