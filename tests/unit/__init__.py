"""Tests without a daemon: pure logic and the test helpers themselves."""
