"""The user service: accounts, passwords, tokens."""

# The service's name: its settings, runtime, metrics labels and log fields all key on it.
SERVICE = "user"
