"""Cryptography Flock builds on: envelope encryption under KMS."""
