"""The credit office's console: a web front end that acts only through the daemon's gRPC API."""
