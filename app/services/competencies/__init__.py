"""Competency frameworks, scales, self- and teacher assessments, and growth charts."""
