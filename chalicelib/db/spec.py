"""The single table spec: local stacks create tables from it and
`infra/template.py` builds the CloudFormation resources from it.

Every table has generic string keys `pk` / `sk`; item kinds are listed in the
module of each table. GSIs use generic `gsiN_pk` / `gsiN_sk` attributes.
"""
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Index:
    name: str
    pk: str
    sk: str


@dataclass(frozen=True)
class TableSpec:
    logical: str
    indexes: tuple = field(default_factory=tuple)
    ttl_attribute: str | None = None


TABLES = (
    TableSpec("users", indexes=(Index("gsi1", "gsi1_pk", "gsi1_sk"), Index("gsi2", "gsi2_pk", "gsi2_sk")),
              ttl_attribute="expires_at"),
    TableSpec("posts", indexes=(Index("gsi1", "gsi1_pk", "gsi1_sk"),), ttl_attribute="expires_at"),
    # balances gsi3 is sparse: account items only, so jobs scan the accounts
    # without reading every entry, transfer and hold of the table.
    TableSpec("balances", indexes=(Index("gsi1", "gsi1_pk", "gsi1_sk"), Index("gsi2", "gsi2_pk", "gsi2_sk"),
                                   Index("gsi3", "gsi3_pk", "gsi3_sk")),
              ttl_attribute="expires_at"),
    TableSpec("loans", indexes=(Index("gsi1", "gsi1_pk", "gsi1_sk"),)),
)


def create_table_kwargs(spec: TableSpec, table_name: str) -> dict:
    """Arguments of `CreateTable` for one spec (on-demand billing)."""
    attributes = {"pk", "sk"}
    gsis = []
    for index in spec.indexes:
        attributes.update((index.pk, index.sk))
        gsis.append({
            "IndexName": index.name,
            "KeySchema": [{"AttributeName": index.pk, "KeyType": "HASH"},
                          {"AttributeName": index.sk, "KeyType": "RANGE"}],
            "Projection": {"ProjectionType": "ALL"},
        })
    kwargs = {
        "TableName": table_name,
        "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        "AttributeDefinitions": [{"AttributeName": a, "AttributeType": "S"} for a in sorted(attributes)],
        "BillingMode": "PAY_PER_REQUEST",
    }
    if gsis:
        kwargs["GlobalSecondaryIndexes"] = gsis
    return kwargs


def create_all(client, table_name_of) -> list[str]:
    """Create every table that does not exist yet; returns the names created."""
    existing = set(client.list_tables().get("TableNames", []))
    created = []
    for spec in TABLES:
        name = table_name_of(spec.logical)
        if name in existing:
            continue
        client.create_table(**create_table_kwargs(spec, name))
        if spec.ttl_attribute:
            client.update_time_to_live(TableName=name, TimeToLiveSpecification={
                "Enabled": True, "AttributeName": spec.ttl_attribute})
        created.append(name)
    return created
