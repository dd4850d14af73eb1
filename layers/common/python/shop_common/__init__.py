"""The shared Lambda layer: what every Serverless Shop function app needs once."""
