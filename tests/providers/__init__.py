"""Provider tests: a local fake server, never the network."""
