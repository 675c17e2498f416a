"""Browser tier: the demo pages in Debian's Chromium, driven by Playwright (`make test-browser`)."""
