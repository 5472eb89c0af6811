"""OCR-to-SQL: document image -> OCR -> document type -> fields -> validation -> idempotent insert.

    ocr -> classify -> extract -> store -> review (needs_review only: waits for a person)
     |        |          |
     +- error +- other   +- needs_review (after repair and escalation), stored for review

A document that needs review is stored at once (nothing is lost) and its run pauses at
`review` (a LangGraph interrupt, checkpointed); `shoal review approve|fix|reject` resumes it
with the decision, which the review step writes once (shoal.tools.document_review).

OCR text is untrusted: the extractor has no tools and can only fill the typed record; the
only write is the typed, parameterized insert keyed by the file's sha256.
"""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, TypedDict, cast, get_args

from langgraph.graph import END, START, StateGraph
from langgraph.runtime import Runtime
from langgraph.types import interrupt
from pydantic import BaseModel

from shoal.agents import Agent, AgentSpec
from shoal.agents.library import Invoice, classifier_spec, extractor_spec, read_currency
from shoal.errors import AgentError, InputError, OutputValidationError
from shoal.graphs.context import GraphDeps, jsonable
from shoal.graphs.runner import GraphDefinition, GraphRunner
from shoal.session import Session
from shoal.tools.document_review import ReviewDecision, Reviews
from shoal.tools.document_store import DocumentStore
from shoal.tools.ocr import DocumentReader, Engine

__all__ = ["DocState", "DocumentKind", "OcrToSqlDeps", "build_ocr_to_sql",
           "ocr_to_sql_definition", "ocr_to_sql_specs", "run_documents"]

DocumentKind = Literal["receipt", "invoice", "other"]
ExtractedKind = Literal["receipt", "invoice"]
DOCUMENT_TYPES: tuple[DocumentKind, ...] = get_args(DocumentKind)


class DocState(TypedDict, total=False):
    path: str
    thread: str  # the run's thread id: a review resumes it
    sha256: str
    text: str
    confidence: float
    doc_type: str
    record: dict[str, Any]
    problems: list[str]
    status: str  # stored | duplicate | needs_review | error
    error: str


@dataclass(frozen=True, kw_only=True)
class OcrToSqlDeps(GraphDeps):
    reader: DocumentReader
    store: DocumentStore
    router: Agent[Any]  # output: {"label": DocumentKind}
    extractors: Mapping[ExtractedKind, Agent[Invoice]]


@dataclass(frozen=True)
class OcrToSqlSpecs:
    router: AgentSpec[Any]
    receipt: AgentSpec[Invoice]
    invoice: AgentSpec[Invoice]


def ocr_to_sql_specs(model: str | None = None,
                     escalate_to: tuple[str, ...] = ("pack:qwen2.5-coder-1.5b",),
                     router_model: str | None = None) -> OcrToSqlSpecs:
    """The router and the two extractors. `model` and `router_model` None: the settings'
    default_model; `escalate_to` () turns escalation off."""
    router = classifier_spec("document_router", DOCUMENT_TYPES, model=router_model,
                             descriptions={"receipt": "a shop or restaurant receipt",
                                           "invoice": "a business invoice with a number and "
                                                      "a bill-to party",
                                           "other": "anything else"})
    return OcrToSqlSpecs(router,
                         extractor_spec("receipt_extractor", model=model,
                                        escalate_to=escalate_to),
                         extractor_spec("invoice_extractor", model=model,
                                        escalate_to=escalate_to))


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


async def _classify(state: DocState, *, runtime: Runtime[OcrToSqlDeps]) -> dict[str, Any]:
    deps = runtime.context
    result = await deps.recorder.run("classify", deps.router, state["text"])
    kind = str(jsonable(result.output)["label"])
    if kind not in deps.extractors:
        return {"doc_type": kind, "status": "error",
                "error": "not a receipt or invoice (classified as other)"}
    return {"doc_type": kind}


async def _extract(state: DocState, *, runtime: Runtime[OcrToSqlDeps]) -> dict[str, Any]:
    deps = runtime.context
    kind: ExtractedKind = "invoice" if state["doc_type"] == "invoice" else "receipt"
    try:
        result = await deps.recorder.run("extract", deps.extractors[kind], state["text"])
    except AgentError as exc:
        problems = [a.error for a in exc.attempts if a.error][-3:] or [exc.message]
        partial = exc.partial if isinstance(exc, OutputValidationError) else None
        record = partial.model_dump(mode="json") if isinstance(partial, BaseModel) else {}
        return _grounded_currency(state["text"], record, problems)
    return _grounded_currency(state["text"], result.output.model_dump(mode="json"), [])


def _grounded_currency(text: str, record: dict[str, Any], problems: list[str]
                       ) -> dict[str, Any]:
    """The currency the document shows replaces the model's; an ambiguous one is flagged."""
    reading = read_currency(text, record.get("currency"))
    record = record | {"currency": reading.code}
    problems = problems + ([reading.problem] if reading.problem else [])
    return {"record": record, "problems": problems,
            "status": "needs_review" if problems else "stored"}


async def _store(state: DocState, *, runtime: Runtime[OcrToSqlDeps]) -> dict[str, Any]:
    review = ((state["thread"], state["text"]) if state["status"] == "needs_review"
              and state.get("thread") else None)
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
    return "review" if state.get("status") == "needs_review" and state.get("thread") else END


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
                          specs: OcrToSqlSpecs | None = None
                          ) -> GraphDefinition[OcrToSqlDeps]:
    """The pipeline writing into `db_url`; agents from `specs` (default: ocr_to_sql_specs())."""
    specs = specs or ocr_to_sql_specs()
    deps = OcrToSqlDeps(
        reader=DocumentReader(engine),
        store=DocumentStore(session.database(db_url, migrate=False)),
        router=Agent(specs.router, session=session),
        extractors={"receipt": Agent(specs.receipt, session=session),
                    "invoice": Agent(specs.invoice, session=session)},
    )
    return GraphDefinition("ocr_to_sql", build_ocr_to_sql(), deps)


async def run_documents(paths: list[Path], definition: GraphDefinition[OcrToSqlDeps],
                        session: Session,
                        on_done: Callable[[DocState], None] | None = None) -> list[DocState]:
    """Run the pipeline on each file in turn (models stay loaded), durably: each file is one
    recorded, checkpointed run, so a document needing review waits for `shoal review`. A bad
    file ends with status `error` and the batch goes on."""
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
