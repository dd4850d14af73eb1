"""`shop deploy`: the function apps on an emulated cloud (LocalStack, or moto's server)."""
