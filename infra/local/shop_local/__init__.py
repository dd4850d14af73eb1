"""The local serverless runtime and the `shop` command."""
