"""The product service: the catalog, its cache, and placing orders as a stock reservation saga."""
