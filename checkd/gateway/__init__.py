"""The HTTP/JSON gateway: a thin adapter onto the daemon's own gRPC server, its routes and its OpenAPI."""
