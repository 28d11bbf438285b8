"""The demo school that `make run` seeds on an empty database."""
