"""DynamoDB access: the table spec and one PynamoDB module per table.

Only this package knows table names and key shapes.
"""
