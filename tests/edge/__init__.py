"""Tests of the edge gateway."""
