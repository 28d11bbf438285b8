"""Open Badges 3.0 credentials: the school's signing key, Data Integrity proofs, issuing, status and verification."""
