"""The example project's pipelines: node functions called directly, then whole runs."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

pytest.importorskip("sklearn")

EXAMPLE = Path(__file__).resolve().parent.parent / "example"
if str(EXAMPLE) not in sys.path:
    sys.path.insert(0, str(EXAMPLE))

from showcase import pipelines as showcase  # noqa: E402  (needs example/ on sys.path)

# --- node functions as plain functions ---------------------------------------------------


def test_iris_nodes_chain_by_hand() -> None:
    frame = showcase.load()
    assert frame.shape == (150, 5)
    train, test = showcase.split(frame, 0.25, 0)
    assert len(train) + len(test) == 150
    # Stratified: every species in the test set.
    assert set(test["target"]) == {0, 1, 2}
    scores = showcase.evaluate(showcase.fit(train, 1.0), test)
    assert set(scores) == {"accuracy", "f1"}
    assert scores["accuracy"] > 0.85


def test_diabetes_feature_engineering_adds_interactions_and_keeps_target_last() -> None:
    raw = showcase.load_diabetes_frame()
    features = showcase.engineer_features(raw)
    assert list(features.columns)[-1] == "target"
    assert {"bmi_x_bp", "bmi_x_s5", "bp_x_s5", "bmi_sq", "s5_sq"} <= set(features.columns)
    assert (features["bmi_x_bp"] == raw["bmi"] * raw["bp"]).all()
    assert len(features) == len(raw) == 442
    assert "bmi_x_bp" not in raw.columns  # the input frame is not modified


def test_diabetes_compare_picks_lower_rmse() -> None:
    result = showcase.compare({"rmse": 60.0, "r2": 0.3}, {"rmse": 55.0, "r2": 0.4})
    assert result == {"best": "boosting", "rmse": 55.0, "r2": 0.4}


def test_regression_models_fit_and_score() -> None:
    features = showcase.engineer_features(showcase.load_diabetes_frame())
    train, test = showcase.split_patients(features, 0.25, 0)
    ridge = showcase.evaluate_ridge(showcase.fit_ridge(train, 1.0), test)
    boosting = showcase.evaluate_boosting(showcase.fit_boosting(train, 20, 0.1, 2, 0), test)
    for scores in (ridge, boosting):
        assert scores["rmse"] > 0
        assert 0.0 < scores["r2"] < 1.0


def test_digits_split_is_stratified_three_ways() -> None:
    frame = showcase.load_digits_frame()
    train, val, test = showcase.split_images(frame, 0.2, 0.25, 0)
    assert len(train) + len(val) + len(test) == len(frame) == 1797
    for part in (train, val, test):
        assert set(part["target"]) == set(range(10))


def test_digits_candidate_and_selection() -> None:
    frame = showcase.load_digits_frame()
    train, val, _ = showcase.split_images(frame, 0.2, 0.25, 0)
    score = showcase.train_candidate(train, val, C=1.0, gamma=0.001)
    assert score["C"] == 1.0 and score["gamma"] == 0.001
    assert 0.9 < score["val_accuracy"] <= 1.0
    candidates = [
        {"C": 3.0, "gamma": 0.001, "val_accuracy": 0.98},
        {"C": 1.0, "gamma": 0.001, "val_accuracy": 0.98},
        {"C": 10.0, "gamma": 0.01, "val_accuracy": 0.5},
    ]
    # A tie goes to the smaller C: the simpler model.
    assert showcase.select_best(*candidates) == candidates[1]


# --- pipeline shapes ---------------------------------------------------------------------


def test_pipelines_are_registered_and_valid() -> None:
    from django_mlops.pipeline import registered

    for name in ("iris", "diabetes", "digits"):
        pipeline = registered(name)
        assert pipeline is not None
        pipeline.validate()


def test_iris_has_the_explain_concept() -> None:
    assert "explain" in showcase.iris
    explain = showcase.iris["explain"]
    assert explain.is_concept and explain.func is None
    assert explain.inputs == ("model", "test")


def test_digits_sweep_fans_out_to_24_nodes_into_select_best() -> None:
    sweep = [node for node in showcase.digits.nodes if "sweep" in node.tags]
    assert len(sweep) == len(showcase.CANDIDATES) >= 24
    assert set(showcase.digits["select_best"].inputs) == {n.outputs[0] for n in sweep}


# --- whole runs ----------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["iris", "diabetes", "digits"])
def test_pipeline_runs_in_memory_and_is_deterministic(name: str) -> None:
    pipeline = getattr(showcase, name)
    first = pipeline.run(record=False)
    second = pipeline.run(record=False)
    assert first.status == second.status == "succeeded"
    output = {"iris": "scores", "diabetes": "comparison", "digits": "scores"}[name]
    assert first.output(output) == second.output(output)
    assert first.metrics == second.metrics


def test_iris_run_stops_before_the_concept_step() -> None:
    run = showcase.iris.run(record=False, params={"C": 0.5})
    assert run.tasks["explain"].state == "not_started"
    assert run.tasks["evaluate"].state == "succeeded"
    assert run.metrics["accuracy"] == run.output("scores")["accuracy"] > 0.85


def test_digits_run_logs_every_candidate_and_the_choice() -> None:
    run = showcase.digits.run(record=False, executor="threads", max_workers=2)
    assert run.status == "succeeded"
    per_candidate = [key for key in run.metrics if key.startswith("val_accuracy/")]
    assert len(per_candidate) == len(showcase.CANDIDATES)
    best = run.output("best")
    assert run.metrics["best_val_accuracy"] == max(run.metrics[k] for k in per_candidate)
    assert (best["C"], best["gamma"]) in {
        (c, g) for c in showcase.C_GRID for g in showcase.GAMMA_GRID
    }
    assert run.output("scores")["accuracy"] > 0.95


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("tmp_mlops_home")
def test_recorded_diabetes_run_reproduces_byte_identical() -> None:
    from django_mlops.run.reproduce import reproduce_run

    run = showcase.diabetes.run(executor="threads", max_workers=2)
    assert run.status == "succeeded"
    report = reproduce_run(run)
    assert report.identical, report.differences


# --- the pictures stakeholders get ------------------------------------------------------

ARTIFACTS = Path(__file__).resolve().parent.parent / "build" / "test-artifacts" / "pictures"


@pytest.mark.parametrize("pipeline", [showcase.iris, showcase.diabetes, showcase.digits])
def test_example_pictures_render_and_are_kept(pipeline: object) -> None:
    """Each example's picture as SVG and PNG, kept under build/test-artifacts/pictures/."""
    import xml.etree.ElementTree as ET

    from django_mlops.picture import pipeline_svg, svg_to_png

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    name = pipeline.name  # type: ignore[attr-defined]
    svg = pipeline_svg(pipeline)  # type: ignore[arg-type]
    root = ET.fromstring(svg)
    elements = [e for e in root.iter() if (e.get("id") or "").startswith(("node-", "group-"))]
    singles = {e.get("data-node") for e in elements if e.get("id", "").startswith("node-")}
    grouped = sum(
        int(e.get("data-count", 0)) for e in elements if e.get("id", "").startswith("group-")
    )
    # Every step is drawn once, alone or inside a group box (the digits sweep is one box).
    names = {n.name for n in pipeline.nodes}  # type: ignore[attr-defined]
    assert singles <= names
    assert len(singles) + grouped == len(names)
    (ARTIFACTS / f"{name}.svg").write_text(svg, encoding="utf-8")
    png = ARTIFACTS / f"{name}.png"
    svg_to_png(svg, png)
    header = png.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = int.from_bytes(header[16:20], "big"), int.from_bytes(header[20:24], "big")
    assert width > 300 and height > 100
