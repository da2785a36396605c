"""Identity: signup, login, passwords, tokens, roles, verification (KYC)."""
