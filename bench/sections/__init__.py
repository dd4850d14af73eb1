"""The sections of `make bench`: each returns rows of the one table."""
