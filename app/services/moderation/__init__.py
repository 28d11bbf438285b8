"""Feedback and its moderation: comments, feedback requests, family approval, notifications."""
