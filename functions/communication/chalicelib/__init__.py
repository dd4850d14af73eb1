"""The communication service: emails sent in answer to events, each exactly once per event."""
