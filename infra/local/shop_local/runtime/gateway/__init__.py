"""The local API Gateway: a REST API with Lambda proxy integrations, built from the
Swagger document Chalice deploys, served over HTTP by `shop_local.runtime.http_server`."""
