"""Interop tests against third-party Sparkplug peers: Eclipse Tahu (npm) and pysparkplug."""
