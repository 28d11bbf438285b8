"""Showcases: curated items with talking points, and secret links to them."""
