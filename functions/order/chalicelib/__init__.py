"""The order service: orders, created only at the product service's request."""

# The service's name: its settings, runtime, metrics labels and log fields all key on it.
SERVICE = "order"
