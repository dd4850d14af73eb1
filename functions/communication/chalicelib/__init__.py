"""The communication service: emails sent in answer to events, each exactly once per event."""

# The service's name: its settings, runtime, metrics labels and log fields all key on it.
SERVICE = "communication"
