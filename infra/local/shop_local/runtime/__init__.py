"""What supervisord runs: the local serverless runtime (gateway, functions, triggers, sinks)."""
