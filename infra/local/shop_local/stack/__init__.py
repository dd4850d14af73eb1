"""The local stack: `shop up/down/status/setup`, supervision, provisioning, backing services."""
