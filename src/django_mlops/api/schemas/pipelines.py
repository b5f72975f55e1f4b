"""Pipelines as the API shows them: nodes, datasets, edges, params, concept steps."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ninja import Field, Schema

if TYPE_CHECKING:
    from ...pipeline import Pipeline

__all__ = [
    "DatasetOut",
    "EdgeOut",
    "NodeOut",
    "ParamOut",
    "PipelineDetail",
    "PipelineSummary",
    "pipeline_detail",
    "pipeline_summary",
]


class ParamOut(Schema):
    """A declared param: its type, default and what values are allowed."""

    name: str
    type: str = Field(description="int, float, bool, str, list, dict or any.")
    required: bool
    default: Any = None
    choices: list[Any] | None = None
    minimum: float | None = None
    maximum: float | None = None
    help: str = ""


class PipelineSummary(Schema):
    """One pipeline in the list."""

    name: str
    description: str
    source: str = Field(description="Where it is defined: MODULE:NAME or /path/file.py:NAME.")
    node_count: int
    concept_count: int = Field(description="Planned steps with no code yet.")
    params: list[ParamOut]


class NodeOut(Schema):
    """One node (or concept step) of a pipeline."""

    name: str
    description: str
    inputs: list[str] = Field(description="Dataset names it reads (params left out).")
    params: list[str] = Field(description="Names of the params it reads.")
    outputs: list[str]
    tags: list[str]
    retries: int
    timeout: float | None
    cache: bool
    concept: bool


class DatasetOut(Schema):
    """A dataset: the node that makes it and the nodes that read it."""

    name: str
    producer: str | None
    consumers: list[str]


class EdgeOut(Schema):
    """``source`` makes ``dataset``, which ``target`` reads."""

    source: str
    target: str
    dataset: str


class PipelineDetail(PipelineSummary):
    """A pipeline with its whole graph."""

    nodes: list[NodeOut]
    datasets: list[DatasetOut]
    edges: list[EdgeOut]
    concepts: list[str] = Field(description="Names of the concept steps.")


def _params(pipeline: Pipeline) -> list[dict[str, Any]]:
    return [{"name": name, **spec.as_json()} for name, spec in pipeline.param_specs.items()]


def pipeline_summary(pipeline: Pipeline) -> dict[str, Any]:
    """The fields of :class:`PipelineSummary`."""
    nodes = pipeline.nodes
    return {
        "name": pipeline.name,
        "description": pipeline.description,
        "source": pipeline.source,
        "node_count": len(nodes),
        "concept_count": sum(1 for n in nodes if n.is_concept),
        "params": _params(pipeline),
    }


def pipeline_detail(pipeline: Pipeline) -> dict[str, Any]:
    """The fields of :class:`PipelineDetail`, from the pipeline and its engine graph."""
    graph = pipeline.graph
    nodes = pipeline.nodes
    datasets = [
        {"name": d, "producer": graph.producer(d), "consumers": list(graph.consumers(d))}
        for d in graph.datasets()
    ]
    edges = [
        {"source": producer, "target": node.name, "dataset": dataset}
        for node in nodes
        for dataset in node.datasets
        if (producer := graph.producer(dataset)) is not None
    ]
    return {
        **pipeline_summary(pipeline),
        "nodes": [
            {
                "name": n.name,
                "description": n.description,
                "inputs": list(n.datasets),
                "params": list(n.params),
                "outputs": list(n.outputs),
                "tags": list(n.tags),
                "retries": n.retries,
                "timeout": n.timeout,
                "cache": n.cache,
                "concept": n.is_concept,
            }
            for n in nodes
        ],
        "datasets": datasets,
        "edges": edges,
        "concepts": [n.name for n in nodes if n.is_concept],
    }
