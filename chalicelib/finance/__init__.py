"""The bank: accounts, the ledger (the only writer of balances), transfers."""
