"""Server: the gRPC adapter: servicers, conversion, status mapping, decoding, interceptors, auth, TLS."""
