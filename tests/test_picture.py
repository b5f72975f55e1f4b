"""The pipeline picture: standalone valid SVG, stable ids, states and legend,
concept steps, grouping, datasets, escaping, PNG output."""

from __future__ import annotations

import re
import shutil
import sys
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from django_mlops.picture import STATES, pipeline_svg, svg_to_png
from django_mlops.picture.text import text_width

SVG = "{http://www.w3.org/2000/svg}"


@dataclass(frozen=True)
class Step:
    name: str
    inputs: Sequence[str] = ()
    outputs: Sequence[str] = ()
    tags: Sequence[str] = ()
    is_concept: bool = False
    description: str = ""


@dataclass(frozen=True)
class Flow:
    name: str
    description: str = ""
    nodes: Sequence[Step] = field(default_factory=tuple)


IRIS = Flow(
    "iris",
    "Classify iris species",
    (
        Step("load", (), ("frame",), description="Read the CSV"),
        Step("split", ("frame", "params:test_size"), ("train", "test"), tags=("prep",)),
        Step("fit", ("train", "params:C"), ("model",), tags=("model",)),
        Step("evaluate", ("model", "test"), ("scores",), tags=("model",)),
        Step(
            "explain",
            ("model", "test"),
            ("report",),
            is_concept=True,
            description="SHAP report for the risk team (planned)",
        ),
    ),
)


def sweep(width: int) -> Flow:
    steps = [Step("load", (), ("frame",)), Step("split", ("frame",), ("train", "test"))]
    steps += [Step(f"train_{i}", ("train", "params:grid"), (f"model_{i}",)) for i in range(width)]
    steps += [Step(f"score_{i}", (f"model_{i}", "test"), (f"score_{i}",)) for i in range(width)]
    steps.append(Step("pick", tuple(f"score_{i}" for i in range(width)), ("best",)))
    return Flow("sweep", "A sweep", tuple(steps))


def parse(svg: str) -> ET.Element:
    root = ET.fromstring(svg)
    assert root.tag == f"{SVG}svg"
    ids = [e.get("id") for e in root.iter() if e.get("id")]
    assert len(ids) == len(set(ids)), "ids must be unique"
    return root


def by_id(root: ET.Element) -> dict[str, ET.Element]:
    return {e.get("id", ""): e for e in root.iter() if e.get("id")}


def boxes(root: ET.Element) -> list[ET.Element]:
    return [
        g
        for g in root.iter(f"{SVG}g")
        if g.get("class", "").split()[:1]
        and g.get("class", "").split()[0] in ("step", "group", "dataset", "param")
    ]


def test_standalone_svg_with_stable_ids() -> None:
    root = parse(pipeline_svg(IRIS))
    found = by_id(root)
    for name in ("load", "split", "fit", "evaluate", "explain"):
        assert found[f"node-{name}"].get("data-node") == name
    for a, b in (("load", "split"), ("split", "fit"), ("fit", "evaluate"), ("split", "explain")):
        edge = found[f"edge-{a}-{b}"]
        assert (edge.get("data-from"), edge.get("data-to")) == (a, b)
    assert len([e for e in found if e.startswith("edge-")]) == 6
    assert root.find(f"{SVG}title").text == "iris"  # type: ignore[union-attr]
    assert "legend" not in found  # no states, no legend


def test_edges_follow_the_flow() -> None:
    for direction, axis in (("LR", "x"), ("TB", "y")):
        root = parse(pipeline_svg(IRIS, direction=direction))
        centre = {}
        for g in boxes(root):
            rect = g.find(f"{SVG}rect")
            assert rect is not None
            size = float(rect.get("width" if axis == "x" else "height", 0))
            centre[g.get("data-node")] = float(rect.get(axis, 0)) + size / 2
        assert centre["load"] < centre["split"] < centre["fit"] < centre["evaluate"]


def test_boxes_do_not_overlap_and_labels_fit() -> None:
    root = parse(pipeline_svg(sweep(4), show_datasets=True, group_threshold=None))
    rects = []
    for g in boxes(root):
        rect = g.find(f"{SVG}rect")
        label = g.find(f"{SVG}text")
        assert rect is not None and label is not None and label.text
        x, y = float(rect.get("x", 0)), float(rect.get("y", 0))
        w, h = float(rect.get("width", 0)), float(rect.get("height", 0))
        size = float(label.get("font-size", 0))
        assert text_width(label.text, size) <= w - 8, label.text
        rects.append((x, y, w, h))
    for i, (x, y, w, h) in enumerate(rects):
        for x2, y2, w2, h2 in rects[i + 1 :]:
            assert x + w <= x2 or x2 + w2 <= x or y + h <= y2 or y2 + h2 <= y


def test_states_colour_steps_and_fill_the_legend() -> None:
    states = {
        "load": "succeeded",
        "split": "cached",
        "fit": "failed",
        "evaluate": "upstream_failed",
    }
    root = parse(pipeline_svg(IRIS, states=states))
    found = by_id(root)
    assert "state-failed" in found["node-fit"].get("class", "").split()
    assert found["node-fit"].get("data-state") == "failed"
    body = found["node-fit"].find(f"{SVG}rect")
    assert body is not None and body.get("fill") == "#fee2e2"
    legend = " ".join(t.text or "" for t in found["legend"].iter(f"{SVG}text"))
    assert legend == "succeeded cached failed upstream failed"
    # Every state has its own colour, so a legend can tell them apart.
    fills = {
        parse(pipeline_svg(IRIS, states={"load": s}))
        .find(f".//*[@id='node-load']/{SVG}rect")
        .get("fill")  # type: ignore[union-attr]
        for s in STATES
    }
    assert len(fills) == len(STATES)


def test_unknown_state_or_direction_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown node state 'done'"):
        pipeline_svg(IRIS, states={"load": "done"})
    with pytest.raises(ValueError, match="direction"):
        pipeline_svg(IRIS, direction="RL")
    with pytest.raises(ValueError, match="group_threshold"):
        pipeline_svg(IRIS, group_threshold=1)


def test_concept_steps_are_dashed_with_their_description() -> None:
    found = by_id(parse(pipeline_svg(IRIS)))
    explain = found["node-explain"]
    assert "concept" in explain.get("class", "").split()
    rect = explain.find(f"{SVG}rect")
    assert rect is not None and rect.get("stroke-dasharray")
    title = explain.find(f"{SVG}title")
    assert title is not None and "SHAP report for the risk team" in (title.text or "")
    assert found["node-fit"].find(f"{SVG}rect").get("stroke-dasharray") is None  # type: ignore[union-attr]


def test_text_is_escaped() -> None:
    odd = Flow(
        'a<b>&"c"',
        "x < y & z",
        (
            Step("<load>", (), ("d&",)),
            Step('say "hi" & go', ("d&",), ()),
        ),
    )
    svg = pipeline_svg(odd, states={"<load>": "running"}, show_datasets=True)
    root = parse(svg)
    nodes = {g.get("data-node") for g in boxes(root) if g.get("data-node")}
    assert nodes == {"<load>", 'say "hi" & go'}
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert "x < y & z" in texts and "d&" in texts
    assert all(re.fullmatch(r"[A-Za-z0-9_.-]+", i) for i in by_id(root))


def test_a_big_fan_out_is_one_group_until_expanded() -> None:
    grouped = by_id(parse(pipeline_svg(sweep(24))))
    assert grouped["group-train_"].get("data-count") == "24"
    assert grouped["group-score_"].get("data-count") == "24"
    assert "edge-group-train_-group-score_" in grouped
    assert not any(i.startswith("node-train_") for i in grouped)
    opened = by_id(parse(pipeline_svg(sweep(24), expand=["train_*"])))
    assert sum(i.startswith("node-train_") for i in opened) == 24
    assert "group-score_" in opened  # only the named group opens
    flat = by_id(parse(pipeline_svg(sweep(24), group_threshold=None)))
    assert sum(i.startswith("node-score_") for i in flat) == 24
    small = by_id(parse(pipeline_svg(sweep(5))))  # below the threshold
    assert not any(i.startswith("group-") for i in small)


def test_a_grid_with_decimal_values_is_one_group() -> None:
    gammas = ("0.0001", "0.0003", "0.001", "0.003", "0.01", "0.03")
    grid = [(c, g) for c in ("0.3", "1", "3", "10") for g in gammas]
    steps = [Step("split", (), ("train",))]
    steps += [Step(f"svc_C{c}_gamma{g}", ("train",), (f"score_{c}_{g}",)) for c, g in grid]
    steps.append(Step("pick", tuple(f"score_{c}_{g}" for c, g in grid), ("best",)))
    ids = by_id(parse(pipeline_svg(Flow("grid", "", tuple(steps)))))
    groups = [i for i in ids if i.startswith("group-")]
    assert len(groups) == 1
    assert ids[groups[0]].get("data-count") == str(len(grid))


def test_two_thousand_steps_stay_a_small_picture() -> None:
    svg = pipeline_svg(sweep(2000), states={f"train_{i}": "succeeded" for i in range(2000)})
    found = by_id(parse(svg))
    assert found["group-train_"].get("data-state") == "succeeded"
    assert len(svg) < 20_000


def test_a_group_shows_its_most_urgent_state() -> None:
    states = {f"train_{i}": "succeeded" for i in range(24)} | {"train_7": "failed"}
    found = by_id(parse(pipeline_svg(sweep(24), states=states)))
    assert found["group-train_"].get("data-state") == "failed"


def test_grouping_by_tag() -> None:
    found = by_id(parse(pipeline_svg(IRIS, group_by_tag=True)))
    assert found["group-model"].get("data-count") == "2"
    assert "node-fit" not in found and "node-load" in found
    assert "edge-split-group-model" in found
    opened = by_id(parse(pipeline_svg(IRIS, group_by_tag=True, expand=["fit"])))
    assert "node-fit" in opened and "group-model" not in opened


def test_datasets_and_params_shown_or_folded() -> None:
    folded = by_id(parse(pipeline_svg(IRIS)))
    assert not any(i.startswith(("data-", "param-")) for i in folded)
    shown = by_id(parse(pipeline_svg(IRIS, show_datasets=True)))
    assert shown["data-frame"].get("data-dataset") == "frame"
    assert shown["param-C"].get("data-param") == "params:C"
    for edge in ("edge-load-data-frame", "edge-data-frame-split", "edge-param-C-fit"):
        assert edge in shown
    assert "edge-load-split" not in shown
    # A fan-out's outputs are one dataset box as well.
    grouped = by_id(parse(pipeline_svg(sweep(30), show_datasets=True)))
    merged = [e for i, e in grouped.items() if i.startswith("data-model")]
    assert len(merged) == 1 and merged[0].get("data-dataset", "").count(",") == 29


def test_svg_to_png_with_cairosvg(tmp_path: Path) -> None:
    pytest.importorskip("cairosvg")
    target = tmp_path / "iris.png"
    svg_to_png(pipeline_svg(IRIS, states={"load": "succeeded"}), target)
    assert target.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_svg_to_png_falls_back_to_rsvg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    if shutil.which("rsvg-convert") is None:
        pytest.skip("rsvg-convert is not installed (apt install librsvg2-bin)")
    monkeypatch.setitem(sys.modules, "cairosvg", None)  # import now fails
    target = tmp_path / "iris.png"
    svg_to_png(pipeline_svg(IRIS), target)
    assert target.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_svg_to_png_says_what_to_install(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "cairosvg", None)
    monkeypatch.setattr(shutil, "which", lambda _name: None)
    with pytest.raises(RuntimeError, match=r"cairosvg.*rsvg-convert"):
        svg_to_png(pipeline_svg(IRIS), tmp_path / "x.png")


def test_declaration_order_does_not_change_the_boxes() -> None:
    ordered = sweep(20)
    shuffled = Flow(ordered.name, ordered.description, tuple(reversed(ordered.nodes)))
    ids = set(by_id(parse(pipeline_svg(ordered))))
    assert ids == set(by_id(parse(pipeline_svg(shuffled))))
    assert {"group-train_", "group-score_"} <= ids
