"""The DRF API of CONTRACT §3."""
