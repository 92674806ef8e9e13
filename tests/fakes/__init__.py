"""Fakes of platform APIs that tests reach over the network, speaking the real wire format."""
