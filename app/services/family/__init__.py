"""Families: invitations and guardian links, the family pages, and calm digests."""
