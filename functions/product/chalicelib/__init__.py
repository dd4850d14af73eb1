"""The product service: the catalog, its cache, and placing orders as a stock reservation saga."""

# The service's name: its settings, runtime, metrics labels and log fields all key on it.
SERVICE = "product"
