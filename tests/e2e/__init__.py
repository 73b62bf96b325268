"""End-to-end tests: the demo\x27s orchestration on real parts."""
