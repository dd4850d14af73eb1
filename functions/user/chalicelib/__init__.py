"""The user service: accounts, passwords, tokens."""
