"""DynamoDB access: the table spec, one PynamoDB module per table, and
`transact`, the one way a transaction is committed.

Only this package knows table names and key shapes: each table module lists
its item kinds with their keys, and builds them.
"""
