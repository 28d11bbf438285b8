"""Running a Folio: backups and restores, and checking that files and rows agree."""
