"""Tests of the sparkplug package."""
