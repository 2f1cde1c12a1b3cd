"""The declared raw contract of every entity: columns, Arrow types, nullability, business key, domains.

The contract follows the public Olist dataset (its misspelled `*_lenght` columns kept as
they are), plus `updated_at` change timestamps and `web_events`. A lake file is checked
against its entity's contract before it loads; the simulator and the Olist importer write
exactly these schemas. Bump CONTRACT_VERSION on any change and say why in the commit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import pyarrow as pa

CONTRACT_VERSION = 1

MONEY = pa.decimal128(12, 2)
TS = pa.timestamp("us")

BR_STATES = (
    "AC", "AL", "AM", "AP", "BA", "CE", "DF", "ES", "GO", "MA", "MG", "MS", "MT", "PA",
    "PB", "PE", "PI", "PR", "RJ", "RN", "RO", "RR", "RS", "SC", "SE", "SP", "TO",
)  # fmt: skip
ORDER_STATUSES = ("created", "approved", "invoiced", "processing", "shipped", "delivered", "canceled", "unavailable")
PAYMENT_TYPES = ("credit_card", "boleto", "voucher", "debit_card", "not_defined")
WEB_EVENT_TYPES = ("page_view", "product_view", "add_to_cart", "checkout", "purchase")
DEVICE_TYPES = ("desktop", "mobile", "tablet")
TRAFFIC_SOURCES = ("direct", "organic", "paid_search", "social", "email", "referral")
ZIP_PATTERN = r"^[0-9]{5}$"


@dataclass(frozen=True)
class Column:
    name: str
    type: pa.DataType
    nullable: bool = True
    allowed: tuple[str, ...] | None = None  # accepted values (strings)
    pattern: str | None = None  # regex a non-null string must match in full
    min: float | None = None  # inclusive lower bound for numbers
    max: float | None = None  # inclusive upper bound for numbers
    not_after_ingest: bool = False  # a timestamp later than its file's ingest_date + 1 day is a defect

    @property
    def regex(self) -> re.Pattern[str] | None:
        return re.compile(self.pattern) if self.pattern else None


@dataclass(frozen=True)
class ForeignKey:
    column: str
    parent: str  # entity
    parent_column: str


@dataclass(frozen=True)
class Contract:
    entity: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]  # business key; empty for reference data without a unique key
    change_column: str | None = None  # newer value = newer version of the key
    foreign_keys: tuple[ForeignKey, ...] = ()
    reference: bool = False  # loaded once as a reference batch (geolocation, translations)
    version: int = CONTRACT_VERSION
    key_not_null: tuple[str, ...] = field(default=())  # columns that must be present (defaults to key)

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def required_not_null(self) -> tuple[str, ...]:
        return self.key_not_null or self.key

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(f"{self.entity} has no column {name!r}")

    def arrow_schema(self) -> pa.Schema:
        return pa.schema([pa.field(c.name, c.type, nullable=c.nullable) for c in self.columns])


def _s(name: str, nullable: bool = True, **kw) -> Column:
    return Column(name, pa.string(), nullable, **kw)


CONTRACTS: dict[str, Contract] = {
    c.entity: c
    for c in (
        Contract(
            "product_category_translation",
            (_s("product_category_name", False), _s("product_category_name_english")),
            key=("product_category_name",),
            reference=True,
        ),
        Contract(
            "geolocation",
            (
                _s("geolocation_zip_code_prefix", False, pattern=ZIP_PATTERN),
                Column("geolocation_lat", pa.float64(), min=-90, max=90),
                Column("geolocation_lng", pa.float64(), min=-180, max=180),
                _s("geolocation_city"),
                _s("geolocation_state", allowed=BR_STATES),
            ),
            key=(),
            key_not_null=("geolocation_zip_code_prefix",),
            reference=True,
        ),
        Contract(
            "customers",
            (
                _s("customer_id", False),
                _s("customer_unique_id", False),
                _s("customer_zip_code_prefix", pattern=ZIP_PATTERN),
                _s("customer_city"),
                _s("customer_state", allowed=BR_STATES),
                Column("updated_at", TS, not_after_ingest=True),
            ),
            key=("customer_id",),
            key_not_null=("customer_id", "customer_unique_id"),
            change_column="updated_at",
        ),
        Contract(
            "sellers",
            (
                _s("seller_id", False),
                _s("seller_zip_code_prefix", pattern=ZIP_PATTERN),
                _s("seller_city"),
                _s("seller_state", allowed=BR_STATES),
                Column("updated_at", TS, not_after_ingest=True),
            ),
            key=("seller_id",),
            change_column="updated_at",
        ),
        Contract(
            "products",
            (
                _s("product_id", False),
                _s("product_category_name"),
                Column("product_name_lenght", pa.int32(), min=0),
                Column("product_description_lenght", pa.int32(), min=0),
                Column("product_photos_qty", pa.int32(), min=0),
                Column("product_weight_g", pa.int32(), min=0),
                Column("product_length_cm", pa.int32(), min=0),
                Column("product_height_cm", pa.int32(), min=0),
                Column("product_width_cm", pa.int32(), min=0),
                Column("list_price", MONEY, min=0),
                Column("updated_at", TS, not_after_ingest=True),
            ),
            key=("product_id",),
            change_column="updated_at",
        ),
        Contract(
            "orders",
            (
                _s("order_id", False),
                _s("customer_id", False),
                _s("order_status", False, allowed=ORDER_STATUSES),
                Column("order_purchase_timestamp", TS, False, not_after_ingest=True),
                Column("order_approved_at", TS, not_after_ingest=True),
                Column("order_delivered_carrier_date", TS, not_after_ingest=True),
                Column("order_delivered_customer_date", TS, not_after_ingest=True),
                Column("order_estimated_delivery_date", TS),
                Column("updated_at", TS, not_after_ingest=True),
            ),
            key=("order_id",),
            key_not_null=("order_id", "customer_id", "order_status", "order_purchase_timestamp"),
            change_column="updated_at",
            foreign_keys=(ForeignKey("customer_id", "customers", "customer_id"),),
        ),
        Contract(
            "order_items",
            (
                _s("order_id", False),
                Column("order_item_id", pa.int32(), False, min=1),
                _s("product_id", False),
                _s("seller_id", False),
                Column("shipping_limit_date", TS),
                Column("price", MONEY, False, min=0),
                Column("freight_value", MONEY, False, min=0),
            ),
            key=("order_id", "order_item_id"),
            key_not_null=("order_id", "order_item_id", "product_id", "seller_id", "price", "freight_value"),
            foreign_keys=(
                ForeignKey("order_id", "orders", "order_id"),
                ForeignKey("product_id", "products", "product_id"),
                ForeignKey("seller_id", "sellers", "seller_id"),
            ),
        ),
        Contract(
            "order_payments",
            (
                _s("order_id", False),
                Column("payment_sequential", pa.int32(), False, min=1),
                _s("payment_type", allowed=PAYMENT_TYPES),
                Column("payment_installments", pa.int32(), min=0, max=24),
                Column("payment_value", MONEY, False, min=0),
            ),
            key=("order_id", "payment_sequential"),
            key_not_null=("order_id", "payment_sequential", "payment_value"),
            foreign_keys=(ForeignKey("order_id", "orders", "order_id"),),
        ),
        Contract(
            "order_reviews",
            (
                _s("review_id", False),
                _s("order_id", False),
                Column("review_score", pa.int32(), False, min=1, max=5),
                _s("review_comment_title"),
                _s("review_comment_message"),
                Column("review_creation_date", TS, not_after_ingest=True),
                Column("review_answer_timestamp", TS),
            ),
            # Olist reuses a review_id for several orders (98,410 ids over 99,224 rows):
            # the row is identified by the pair.
            key=("review_id", "order_id"),
            key_not_null=("review_id", "order_id", "review_score"),
            foreign_keys=(ForeignKey("order_id", "orders", "order_id"),),
        ),
        Contract(
            "web_events",
            (
                _s("event_id", False),
                _s("session_id", False),
                _s("customer_unique_id"),
                _s("event_type", False, allowed=WEB_EVENT_TYPES),
                _s("product_id"),
                _s("order_id"),
                Column("event_timestamp", TS, False, not_after_ingest=True),
                _s("device_type", allowed=DEVICE_TYPES),
                _s("traffic_source", allowed=TRAFFIC_SOURCES),
            ),
            key=("event_id",),
            key_not_null=("event_id", "session_id", "event_type", "event_timestamp"),
        ),
    )
}

# Parents before children: a run loads entities in this order so foreign keys can resolve.
LOAD_ORDER: tuple[str, ...] = (
    "product_category_translation",
    "geolocation",
    "customers",
    "sellers",
    "products",
    "orders",
    "order_items",
    "order_payments",
    "order_reviews",
    "web_events",
)
assert set(LOAD_ORDER) == set(CONTRACTS)

LINEAGE_COLUMNS: tuple[tuple[str, pa.DataType], ...] = (
    ("_source_file", pa.string()),
    ("_batch_id", pa.string()),
    ("_ingest_date", pa.date32()),
    ("_loaded_at", TS),
    ("_run_id", pa.string()),
)


def get_contract(entity: str) -> Contract:
    try:
        return CONTRACTS[entity]
    except KeyError:
        raise KeyError(f"unknown entity {entity!r}; known: {', '.join(LOAD_ORDER)}") from None


def raw_arrow_schema(entity: str) -> pa.Schema:
    """Schema of the warehouse table raw.<entity>: the contract's columns (all nullable: bad rows
    go to the quarantine, not the table) followed by the lineage columns."""
    contract = get_contract(entity)
    return pa.schema(
        [pa.field(c.name, c.type) for c in contract.columns] + [pa.field(n, t) for n, t in LINEAGE_COLUMNS]
    )
