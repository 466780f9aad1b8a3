"""Feed files from the credit platform: reading them (any encoding, CSV, JSON Lines, xlsx), importing them."""
