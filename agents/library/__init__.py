"""Ready specialists: each is a function returning an AgentSpec with a sensible small model,
a prompt file under prompts/, and a typed output."""

from shoal.agents.library.answers import NumericAnswer
from shoal.agents.library.classifier import classifier_spec
from shoal.agents.library.currency import CurrencyReading, read_currency
from shoal.agents.library.extractor import (
    Invoice,
    InvoiceFields,
    LineItem,
    amounts_add_up,
    extractor_spec,
)
from shoal.agents.library.sql_writer import SQLTask, sql_writer_spec
from shoal.agents.library.summarizer import summarizer_spec

__all__ = [
    "CurrencyReading",
    "Invoice",
    "InvoiceFields",
    "LineItem",
    "NumericAnswer",
    "SQLTask",
    "amounts_add_up",
    "classifier_spec",
    "extractor_spec",
    "read_currency",
    "sql_writer_spec",
    "summarizer_spec",
]
