"""OCR-to-SQL: document image -> OCR -> document type -> fields -> validation -> idempotent insert.

    ocr -> classify -> extract -> store
     |        |          |
     +- error +- other   +- needs_review (after repair and escalation), stored for review

OCR text is untrusted: the extractor has no tools and can only fill the typed record; the
only write is the typed, parameterized insert keyed by the file's sha256.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypedDict

from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.graph import END, START, StateGraph
from langgraph.runtime import Runtime

from shoal.agents import Agent, AgentSpec
from shoal.agents.library import Invoice, classifier_spec, extractor_spec
from shoal.errors import AgentError, InputError
from shoal.graphs.context import ShoalContext
from shoal.graphs.nodes import run_agent
from shoal.graphs.runner import GraphDefinition, invoke_recorded
from shoal.memory import Ledger
from shoal.settings import Settings

__all__ = ["DocState", "build_ocr_to_sql", "ocr_to_sql_definition", "ocr_to_sql_specs",
           "run_documents"]

DOCUMENT_TYPES = ("receipt", "invoice", "other")


class DocState(TypedDict, total=False):
    path: str
    sha256: str
    text: str
    confidence: float
    doc_type: str
    record: dict[str, Any]
    problems: list[str]
    status: str  # stored | duplicate | needs_review | error
    error: str


def ocr_to_sql_specs(model: str = "pack:qwen2.5-coder-0.5b",
                     escalate_to: tuple[str, ...] = ("pack:qwen2.5-coder-1.5b",),
                     router_model: str = "pack:qwen2.5-coder-0.5b") -> dict[str, AgentSpec]:
    router = classifier_spec("document_router", DOCUMENT_TYPES, model=router_model,
                             descriptions={"receipt": "a shop or restaurant receipt",
                                           "invoice": "a business invoice with a number and "
                                                      "a bill-to party",
                                           "other": "anything else"})
    return {"document_router": router,
            "receipt_extractor": extractor_spec("receipt_extractor", model=model,
                                                escalate_to=escalate_to),
            "invoice_extractor": extractor_spec("invoice_extractor", model=model,
                                                escalate_to=escalate_to)}


async def _ocr(state: DocState, *, runtime: Runtime[ShoalContext]) -> dict[str, Any]:
    path = Path(state["path"])
    try:
        document = await runtime.context.tools["ocr"](path)
    except InputError as exc:
        return {"status": "error", "error": exc.message + (f" ({exc.fix})" if exc.fix else "")}
    return {"text": document.text, "confidence": document.confidence,
            "sha256": await asyncio.to_thread(_sha256, path)}


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


async def _classify(state: DocState, *, runtime: Runtime[ShoalContext]) -> dict[str, Any]:
    output = await run_agent(runtime, "classify", "document_router", state["text"])
    kind = str(output["label"])
    if kind == "other":
        return {"doc_type": kind, "status": "error",
                "error": "not a receipt or invoice (classified as other)"}
    return {"doc_type": kind}


async def _extract(state: DocState, *, runtime: Runtime[ShoalContext]) -> dict[str, Any]:
    agent = f"{state['doc_type']}_extractor"
    try:
        record = await run_agent(runtime, "extract", agent, state["text"])
    except AgentError as exc:
        problems = [str(getattr(a, "error", "")) for a in exc.attempts if getattr(a, "error", None)]
        last = next((getattr(a, "answer", "") for a in reversed(exc.attempts)
                     if getattr(a, "answer", "")), "")
        return {"status": "needs_review", "problems": problems[-3:], "record": _salvage(last)}
    return {"record": record, "status": "stored", "problems": []}


def _salvage(answer: str) -> dict[str, Any]:
    """What can be kept of an invalid answer for the reviewer (never trusted as valid)."""
    try:
        data = Invoice.model_validate_json(answer, strict=False)
        return data.model_dump(mode="json")
    except ValueError:
        return {}


async def _store(state: DocState, *, runtime: Runtime[ShoalContext]) -> dict[str, Any]:
    inserted = await runtime.context.tools["store"](state)
    if not inserted:
        return {"status": "duplicate"}
    return {}


def _unless_error(good: str) -> Any:
    return lambda state: END if state.get("status") == "error" else good


def build_ocr_to_sql(checkpointer: BaseCheckpointSaver[Any] | None = None) -> Any:
    graph = StateGraph(DocState, context_schema=ShoalContext)
    graph.add_node("ocr", _ocr)
    graph.add_node("classify", _classify)
    graph.add_node("extract", _extract)
    graph.add_node("store", _store)
    graph.add_edge(START, "ocr")
    graph.add_conditional_edges("ocr", _unless_error("classify"), ["classify", END])
    graph.add_conditional_edges("classify", _unless_error("extract"), ["extract", END])
    graph.add_edge("extract", "store")
    graph.add_edge("store", END)
    return graph.compile(checkpointer=checkpointer)


def ocr_to_sql_definition(settings: Settings, *, db_url: str, engine: str = "rapidocr",
                          specs: dict[str, AgentSpec] | None = None) -> GraphDefinition:
    """The pipeline writing into `db_url`; agents from `specs` (default: ocr_to_sql_specs())."""
    from shoal.tools.document_store import DocumentStore
    from shoal.tools.ocr import read_document

    store = DocumentStore(db_url)

    async def ocr(path: Path) -> Any:
        return await read_document(path, engine=engine)  # type: ignore[arg-type]  # checked by CLI

    async def save(state: DocState) -> bool:
        return await asyncio.to_thread(
            store.insert, sha256=state["sha256"], file_name=Path(state["path"]).name,
            doc_type=state["doc_type"], status=state["status"], record=state.get("record", {}),
            problems=state.get("problems", []), ocr_confidence=state.get("confidence", 0.0))

    agents = {name: Agent[Any](spec, settings=settings)
              for name, spec in (specs or ocr_to_sql_specs()).items()}
    return GraphDefinition("ocr_to_sql", build_ocr_to_sql, agents=agents,
                           tools={"ocr": ocr, "store": save})


async def run_documents(paths: list[Path], definition: GraphDefinition, ledger: Ledger | None,
                        on_done: Callable[[DocState], None] | None = None) -> list[DocState]:
    """Run the pipeline on each file in turn (models stay loaded); a bad file ends with status
    `error` and the batch goes on."""
    graph = definition.build(None)
    results = []
    for path in paths:
        try:
            state: DocState = await invoke_recorded(definition, graph, {"path": str(path)},
                                                    thread_id=str(path), ledger=ledger)
        except Exception as exc:  # one broken document must not stop the batch
            state = {"path": str(path), "status": "error", "error": f"{type(exc).__name__}: {exc}"}
        results.append(state)
        if on_done:
            on_done(state)
    return results
