"""Fixtures of the browser tests (jobstream.testing.web)."""

from jobstream.testing.web import browser, chromium_path, watch, web_stack

__all__ = ["browser", "chromium_path", "watch", "web_stack"]
