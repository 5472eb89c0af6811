"""OCR-to-SQL: document image -> OCR -> document type -> fields -> validation -> idempotent insert.

    ocr -> classify -> extract -> store -> review (needs_review only: waits for a person)
     |        |          |
     +- error +- other   +- needs_review (after repair and escalation), stored for review

`classify` needs no model (document_kind): a text without an amount is `other`, one that
prints what invoices print is an `invoice`, else a `receipt`; so one model call, the
extraction, reads the text.

A document that needs review is stored at once (nothing is lost) and its run pauses at
`review` (a LangGraph interrupt, checkpointed); `shoal review approve|fix|reject` resumes it
with the decision, which the review step writes once (shoal.tools.document_review).

OCR text is untrusted: the extractor has no tools and can only fill the typed record; the
only write is the typed, parameterized insert keyed by the file's sha256.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal, TypedDict, cast

from langgraph.graph import END, START, StateGraph
from langgraph.runtime import Runtime
from langgraph.types import interrupt
from pydantic import BaseModel

from shoal.agents import Agent, AgentSpec
from shoal.agents.library import InvoiceFields, extractor_spec, read_currency
from shoal.errors import AgentError, InputError, OutputValidationError
from shoal.graphs.context import GraphDeps
from shoal.graphs.runner import GraphDefinition, GraphRunner
from shoal.session import Session
from shoal.tools.document_review import ReviewDecision, Reviews, parse_fix
from shoal.tools.document_store import DocumentStore
from shoal.tools.line_items import read_items
from shoal.tools.ocr import DocumentReader, Engine, OcrLimits
from shoal.tools.record_target import field_kinds

__all__ = ["DocState", "DocumentKind", "OcrToSqlDeps", "build_ocr_to_sql", "decide_review",
           "document_kind", "document_record", "ocr_to_sql_definition", "ocr_to_sql_spec",
           "reviews_at", "run_documents"]

DocumentKind = Literal["receipt", "invoice", "other"]
# An amount as documents print it (12.50, 1.234,56, 1 234,56): a text without one is no
# receipt or invoice.
_AMOUNT = re.compile(r"\d[.,]\d{2}(?!\d)")
# What invoices print and receipts do not: the word (English, German, French, Spanish,
# Italian, Dutch, Nordic), a bill-to party, a due date.
_INVOICE = re.compile(
    r"\b(invoice|rechnung|facture|factura|fattura|factuur|faktura|bill(ed)? to|"
    r"due date|payment due|zahlbar bis|fällig|échéance|rechnungsempfänger)", re.I)


def document_kind(text: str) -> DocumentKind:
    """The document type, told from its text without a model: `other` without an amount,
    `invoice` when it shows what invoices print, else `receipt`."""
    if not _AMOUNT.search(text):
        return "other"
    return "invoice" if _INVOICE.search(text) else "receipt"


class DocState(TypedDict, total=False):
    path: str
    thread: str  # the run's thread id: a review resumes it
    sha256: str
    text: str
    confidence: float
    doc_type: str
    record: dict[str, Any]
    problems: list[str]
    status: str  # stored | duplicate | needs_review | approved | rejected | error
    error: str


@dataclass(frozen=True, kw_only=True)
class OcrToSqlDeps(GraphDeps):
    reader: DocumentReader
    store: DocumentStore
    extractor: Agent[InvoiceFields]  # the one model call per document
    # Line items read from the table rows, the model reading the text without them. False:
    # the model reads all of the text (for a record type whose items it extracts itself).
    read_rows: bool = True


def ocr_to_sql_spec(model: str | None = None,
                    escalate_to: tuple[str, ...] = ("pack:qwen2.5-coder-1.5b",),
                    output: type[BaseModel] | None = None) -> AgentSpec[InvoiceFields]:
    """The extractor: `model` None is the settings' default_model; `escalate_to` () turns
    escalation off; `output` is the record type (default: InvoiceFields)."""
    return extractor_spec("invoice_extractor", model=model, escalate_to=escalate_to,
                          output=output or InvoiceFields)


async def _ocr(state: DocState, *, runtime: Runtime[OcrToSqlDeps]) -> dict[str, Any]:
    path = Path(state["path"])
    try:
        document = await runtime.context.reader.read(path)
    except InputError as exc:
        return {"status": "error", "error": exc.message + (f" ({exc.fix})" if exc.fix else "")}
    return {"text": document.text, "confidence": document.confidence,
            "sha256": await asyncio.to_thread(_sha256, path)}


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _classify(state: DocState) -> dict[str, Any]:
    kind = document_kind(state["text"])
    if kind == "other":
        return {"doc_type": kind, "status": "error",
                "error": "not a receipt or invoice (no amount in its text: classified as other)"}
    return {"doc_type": kind}


async def _extract(state: DocState, *, runtime: Runtime[OcrToSqlDeps]) -> dict[str, Any]:
    """The model reads the fields from the text without its item rows (they are most of a
    long invoice); the items are then read from those rows (shoal.tools.line_items)."""
    deps = runtime.context
    text = state["text"]
    problems: list[str] = []
    try:
        result = await deps.recorder.run("extract", deps.extractor,
                                         read_items(text).text if deps.read_rows else text)
        record = result.output.model_dump(mode="json")
    except AgentError as exc:
        problems = [a.error for a in exc.attempts if a.error][-3:] or [exc.message]
        partial = exc.partial if isinstance(exc, OutputValidationError) else None
        record = partial.model_dump(mode="json") if isinstance(partial, BaseModel) else {}
    return _grounded_currency(text, _with_items(text, record) if deps.read_rows else record,
                              problems)


def _with_items(text: str, record: dict[str, Any]) -> dict[str, Any]:
    """`record` with the line items that add up to its subtotal (to its total when it shows
    none): one item may be all of it, since the model read the amount it must add up to."""
    amount = record.get("subtotal") if record.get("subtotal") is not None else record.get(
        "total")
    if amount is None:
        return record
    items = read_items(text, Decimal(str(amount)), min_items=1).items
    return record | {"line_items": [{"description": i.description, "amount": str(i.amount)}
                                    for i in items]}


def _grounded_currency(text: str, record: dict[str, Any], problems: list[str]
                       ) -> dict[str, Any]:
    """The currency the document shows replaces the model's; an ambiguous one is flagged."""
    reading = read_currency(text, record.get("currency"))
    record = record | {"currency": reading.code}
    problems = problems + ([reading.problem] if reading.problem else [])
    return {"record": record, "problems": problems,
            "status": "needs_review" if problems else "stored"}


def _waits_for_review(state: DocState) -> bool:
    """A document that needs a person, in a run that can pause (it has a thread)."""
    return state.get("status") == "needs_review" and bool(state.get("thread"))


async def _store(state: DocState, *, runtime: Runtime[OcrToSqlDeps]) -> dict[str, Any]:
    review = (state["thread"], state["text"]) if _waits_for_review(state) else None
    inserted = await runtime.context.store.save(
        sha256=state["sha256"], file_name=Path(state["path"]).name,
        doc_type=state["doc_type"], status=state["status"], record=state.get("record", {}),
        problems=state.get("problems", []), ocr_confidence=state.get("confidence", 0.0),
        review=review)
    return {} if inserted else {"status": "duplicate"}


async def _review(state: DocState, *, runtime: Runtime[OcrToSqlDeps]) -> dict[str, Any]:
    """Wait for a person's decision (approve, with fixes or not; reject), then write it."""
    decision = ReviewDecision.model_validate(interrupt({
        "sha256": state["sha256"], "file": Path(state["path"]).name,
        "record": state.get("record", {}), "problems": state.get("problems", [])}))
    reviews = Reviews(runtime.context.store)
    status = await runtime.context.store.db.offload(reviews.decide, state["sha256"], decision)
    return {"status": status}


def _unless_error(good: str) -> Callable[[DocState], str]:
    return lambda state: END if state.get("status") == "error" else good


def _review_if_needed(state: DocState) -> str:
    return "review" if _waits_for_review(state) else END


def build_ocr_to_sql() -> StateGraph[DocState, OcrToSqlDeps, DocState, DocState]:
    graph = StateGraph(DocState, context_schema=OcrToSqlDeps)
    graph.add_node("ocr", _ocr)
    graph.add_node("classify", _classify)
    graph.add_node("extract", _extract)
    graph.add_node("store", _store)
    graph.add_node("review", _review)
    graph.add_edge(START, "ocr")
    graph.add_conditional_edges("ocr", _unless_error("classify"), ["classify", END])
    graph.add_conditional_edges("classify", _unless_error("extract"), ["extract", END])
    graph.add_edge("extract", "store")
    graph.add_conditional_edges("store", _review_if_needed, ["review", END])
    graph.add_edge("review", END)
    return graph


def ocr_to_sql_definition(session: Session, *, db_url: str, engine: Engine = "rapidocr",
                          spec: AgentSpec[InvoiceFields] | None = None,
                          into: str | None = None, lines: str | None = None,
                          read_rows: bool = True) -> GraphDefinition[OcrToSqlDeps]:
    """The pipeline writing into `db_url`; the extractor from `spec` (default:
    ocr_to_sql_spec(); its output is the record type). `into`: a table of the user's that
    stored records also go into, with their items in `lines` (else the table with a foreign
    key to it): see shoal.tools.record_target. `read_rows` False: the model reads all of the
    text and fills the line items itself (a `spec` whose output has them)."""
    spec = spec or ocr_to_sql_spec()
    kinds = field_kinds(spec.output) if isinstance(spec.output, type) else None
    deps = OcrToSqlDeps(
        reader=DocumentReader(engine, OcrLimits(session.settings.max_pages,
                                                session.settings.max_image_pixels)),
        store=DocumentStore(session.database(db_url, migrate=False), into, lines, kinds),
        extractor=Agent(spec, session=session), read_rows=read_rows,
    )
    return GraphDefinition("ocr_to_sql", build_ocr_to_sql(), deps)


def document_record(state: DocState) -> dict[str, Any]:
    """What a caller is told about one processed document (CLI --json, HTTP)."""
    record = state.get("record") or {}
    return {"file": Path(state["path"]).name, "status": state.get("status"),
            "type": state.get("doc_type"), "sha256": state.get("sha256"),
            **{k: record.get(k) for k in ("vendor", "number", "date", "currency", "subtotal",
                                          "tax", "total")},
            "line_items": record.get("line_items", []),
            "error": state.get("error"), "problems": state.get("problems") or None}


def reviews_at(session: Session, db_url: str) -> Reviews:
    """The review rows of the documents database `db_url` (a user's: not migrated)."""
    return Reviews(DocumentStore(session.database(db_url, migrate=False)))


async def decide_review(session: Session, db_url: str, document: str,
                        decision: ReviewDecision) -> tuple[str, str]:
    """Resume the paused run of the document under review whose id starts with `document`
    with a person's `decision`; its full sha256 and status after. InputError when the id
    matches no waiting document or it was decided already (nothing changes)."""
    parse_fix(decision.fix)  # a mistyped value is refused before anything runs
    reviews = reviews_at(session, db_url)
    row, review = await reviews.store.db.offload(reviews.find, document)
    if review.decision is not None:
        raise InputError(f"document {row.sha256[:12]} ({row.file_name}) was "
                         f"{review.decision} already; nothing changed", source=document,
                         fix="see it with `shoal review show ID --db URL`")
    async with GraphRunner(ocr_to_sql_definition(session, db_url=db_url), session) as runner:
        outcome = await runner.resume(review.thread_id, decision.model_dump())
    return row.sha256, str(outcome.state.get("status"))


async def run_documents(paths: list[Path], definition: GraphDefinition[OcrToSqlDeps],
                        session: Session,
                        on_done: Callable[[DocState], None] | None = None) -> list[DocState]:
    """Run the pipeline on each file in turn (models stay loaded), durably: each file is one
    recorded, checkpointed run, so a document needing review waits for `shoal review`. A bad
    file ends with status `error` and the batch goes on. Target tables that do not fit the
    record (InputError) stop it before the first file."""
    store = definition.deps.store
    await store.db.offload(store.ensure_tables)
    results = []
    async with GraphRunner(definition, session) as runner:
        for path in paths:
            thread = f"ocr-to-sql:{uuid.uuid4().hex}"
            try:
                outcome = await runner.start_state({"path": str(path), "thread": thread},
                                                  thread)
                state: DocState = cast(DocState, outcome.state)
            except Exception as exc:  # one broken document must not stop the batch
                state = {"path": str(path), "status": "error",
                         "error": f"{type(exc).__name__}: {exc}"}
            results.append(state)
            if on_done:
                on_done(state)
    return results
