"""The order service: orders, created only at the product service's request."""
