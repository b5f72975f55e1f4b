"""Typed params: declaration, validation and coercion, from Python, JSON values and the CLI."""

from __future__ import annotations

import os
import pickle
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from django_mlops import Param, ParamValidationError, Pipeline, PipelineError
from django_mlops.errors import ParamFieldError, UnknownParamError
from django_mlops.params import REQUIRED, ParamText, validate_params
from django_mlops.pipeline_registry import _registry

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def _isolated_registry() -> Iterator[None]:
    saved = dict(_registry)
    yield
    _registry.clear()
    _registry.update(saved)


def typed() -> Pipeline:
    """A pipeline with one param of every type."""
    return Pipeline(
        "typed",
        params={
            "C": 1.0,
            "n": 3,
            "flag": False,
            "name": "iris",
            "sizes": [1, 2],
            "opts": {"a": 1},
            "anything": None,
        },
    )


def texts(**values: str) -> dict[str, ParamText]:
    """Values as ``--param K=V`` gives them."""
    return {k: ParamText(v) for k, v in values.items()}


def refusal(pipeline: Pipeline, given: dict[str, Any], **options: Any) -> ParamValidationError:
    with pytest.raises(ParamValidationError) as info:
        validate_params(pipeline, given, **options)
    return info.value


# --- types from defaults ------------------------------------------------------------


def test_types_come_from_defaults() -> None:
    specs = typed().param_specs
    assert {k: s.type_name for k, s in specs.items()} == {
        "C": "float",
        "n": "int",
        "flag": "bool",
        "name": "str",
        "sizes": "list",
        "opts": "dict",
        "anything": "any",
    }
    assert typed().params["C"] == 1.0 and not specs["C"].required


def test_defaults_alone_resolve_unchanged() -> None:
    p = typed()
    assert validate_params(p, None) == p.params


@pytest.mark.parametrize(
    ("key", "text", "expected"),
    [
        ("C", "1", 1.0),
        ("C", "0.5", 0.5),
        ("C", "1e-3", 0.001),
        ("n", "12", 12),
        ("n", " 7 ", 7),
        ("flag", "true", True),
        ("flag", "YES", True),
        ("flag", "1", True),
        ("flag", "no", False),
        ("flag", "0", False),
        ("flag", "False", False),
        ("name", "007", "007"),
        ("name", "true", "true"),
        ("name", "", ""),
        ("sizes", "[3, 4]", [3, 4]),
        ("opts", '{"b": [1]}', {"b": [1]}),
        ("anything", "5", 5),
        ("anything", "abc", "abc"),
    ],
)
def test_texts_are_read_by_the_param_type(key: str, text: str, expected: Any) -> None:
    value = validate_params(typed(), texts(**{key: text}))[key]
    assert value == expected and type(value) is type(expected)


def test_int_for_a_float_is_the_float_so_the_cache_key_is_the_same() -> None:
    from django_mlops.run.planning import param_digest

    p = typed()
    from_text = validate_params(p, texts(C="1"))["C"]
    from_json = validate_params(p, {"C": 1})["C"]
    assert type(from_text) is float and type(from_json) is float
    assert param_digest(from_text) == param_digest(p.params["C"]) == param_digest(from_json)


@pytest.mark.parametrize(
    ("key", "text", "message"),
    [
        ("C", "abc", "param 'C' must be a float, got 'abc'"),
        ("C", "nan", "param 'C' must be a finite float, got nan"),
        ("n", "2.5", "param 'n' must be an integer, got '2.5'"),
        ("flag", "maybe", "param 'flag' must be a boolean (true/false), got 'maybe'"),
        ("sizes", "[1,", "param 'sizes' must be a JSON list, got '[1,'"),
        ("sizes", '{"a": 1}', "param 'sizes' must be a JSON list, got '{\"a\": 1}'"),
        ("opts", "[1]", "param 'opts' must be a JSON object, got '[1]'"),
    ],
)
def test_bad_texts_name_the_param_and_type(key: str, text: str, message: str) -> None:
    error = refusal(typed(), texts(**{key: text}))
    assert str(error) == message
    assert error.errors == [ParamFieldError(key, message)]


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("C", 2, 2.0),
        ("C", "0.25", 0.25),  # a form or client sending every value as a string
        ("n", 4.0, 4),
        ("n", "4", 4),
        ("flag", True, True),
        ("flag", "no", False),
        ("name", "x", "x"),
        ("sizes", (5, 6), [5, 6]),
        ("sizes", "[7]", [7]),
        ("opts", {"k": "v"}, {"k": "v"}),
        ("anything", "5", "5"),  # JSON values are taken as they are
        ("anything", [1], [1]),
    ],
)
def test_json_values_are_coerced(key: str, value: Any, expected: Any) -> None:
    result = validate_params(typed(), {key: value})[key]
    assert result == expected and type(result) is type(expected)


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("C", True, "param 'C' must be a float, got True"),
        ("C", float("inf"), "param 'C' must be a finite float, got inf"),
        ("n", 2.5, "param 'n' must be an integer, got 2.5"),
        ("n", False, "param 'n' must be an integer, got False"),
        ("flag", 2, "param 'flag' must be a boolean (true/false), got 2"),
        ("name", 5, "param 'name' must be a string, got 5"),
        ("sizes", {"a": 1}, "param 'sizes' must be a JSON list, got {'a': 1}"),
    ],
)
def test_wrong_json_values_are_refused(key: str, value: Any, message: str) -> None:
    assert str(refusal(typed(), {key: value})) == message


def test_from_text_reads_every_string_as_typed_text() -> None:
    p = typed()
    assert validate_params(p, {"anything": "5"}, from_text=True)["anything"] == 5
    assert validate_params(p, {"anything": "5"})["anything"] == "5"


def test_every_problem_is_one_field_and_one_line() -> None:
    p = Pipeline("many", params={"C": 1.0, "seed": Param(type=int)})
    error = refusal(p, {"C": "abc", "gamma": 2})
    assert [e.param for e in error.errors] == ["C", "gamma", "seed"]
    assert str(error).splitlines() == [
        "param 'C' must be a float, got 'abc'",
        "pipeline 'many' has no param 'gamma' (known: C, seed)",
        "param 'seed' is required: pipeline 'many' gives it no default",
    ]
    # Callers that catch the older, wider error keep working.
    assert isinstance(error, UnknownParamError) and isinstance(error, PipelineError)
    copy = pickle.loads(pickle.dumps(error))
    assert copy.errors == error.errors and str(copy) == str(error)


def test_unknown_param_lists_the_known_ones() -> None:
    error = refusal(typed(), {"cc": 1})
    assert str(error) == (
        "pipeline 'typed' has no param 'cc' (known: C, anything, flag, n, name, opts, sizes)"
    )


# --- Param declarations -----------------------------------------------------------


def test_param_choices_bounds_and_help() -> None:
    p = Pipeline(
        "declared",
        params={
            "C": Param(1, minimum=0, maximum=10.0, help="inverse regularisation"),
            "solver": Param("lbfgs", choices=["lbfgs", "saga"]),
            "seed": Param(type=int),
        },
    )
    specs = p.param_specs
    assert specs["C"].type is float and specs["C"].default == 1.0
    assert specs["seed"].required and specs["seed"].default is REQUIRED
    assert p.params == {"C": 1.0, "solver": "lbfgs"}  # plain values; a required one has none
    assert specs["solver"].as_json() == {
        "type": "str",
        "required": False,
        "default": "lbfgs",
        "choices": ["lbfgs", "saga"],
        "minimum": None,
        "maximum": None,
        "help": "",
    }
    assert specs["C"].as_json()["help"] == "inverse regularisation"
    ok = validate_params(p, texts(C="10", solver="saga", seed="3"))
    assert ok == {"C": 10.0, "solver": "saga", "seed": 3}
    assert str(refusal(p, texts(C="-1", seed="1"))) == "param 'C' must be >= 0, got -1.0"
    assert str(refusal(p, texts(C="11", seed="1"))) == "param 'C' must be <= 10.0, got 11.0"
    assert str(refusal(p, texts(solver="adam", seed="1"))) == (
        "param 'solver' must be one of 'lbfgs', 'saga', got 'adam'"
    )


def test_param_type_from_choices_or_bounds() -> None:
    p = Pipeline("inferred", params={"k": Param(choices=[1, 2, 3]), "alpha": Param(minimum=0.0)})
    assert p.param_specs["k"].type is int and p.param_specs["alpha"].type is float
    assert validate_params(p, texts(k="2", alpha="3")) == {"k": 2, "alpha": 3.0}
    assert str(refusal(p, texts(k="4", alpha="1"))) == "param 'k' must be one of 1, 2, 3, got 4"


@pytest.mark.parametrize(
    ("declared", "message"),
    [
        (Param(-1.0, minimum=0.0), "pipeline 'bad_decl': param 'x' must be >= 0.0, got -1.0"),
        (Param("a", choices=["b"]), "pipeline 'bad_decl': param 'x' must be one of 'b'"),
        (Param(1, type=float, choices=["z"]), "param 'x' must be a float, got 'z'"),
        (Param("s", minimum=1), "param 'x': minimum/maximum need a number type"),
        (Param(5, minimum=3, maximum=1), "param 'x': minimum 3 is above maximum 1"),
        (Param(1, type=tuple), "param 'x': type must be int, float, bool, str, list or dict"),
        (Param(choices=[]), "param 'x': choices must not be empty"),
    ],
)
def test_bad_declarations_fail_at_definition(declared: Param, message: str) -> None:
    with pytest.raises(PipelineError) as info:
        Pipeline("bad_decl", params={"x": declared})
    assert message in str(info.value)


def test_node_may_read_a_required_param() -> None:
    p = Pipeline("needs_seed", params={"seed": Param(type=int, help="random seed")})
    p.node(inputs=["params:seed"], outputs="s")(lambda seed: seed)
    with pytest.raises(ParamValidationError, match="param 'seed' is required"):
        p.run(record=False)
    run = p.run(params={"seed": "4"}, record=False)
    assert run.output("s") == 4


# --- refused before a run is recorded -------------------------------------------------


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("tmp_mlops_home")
def test_recorded_params_are_coerced_and_a_refusal_records_nothing() -> None:
    from django_mlops.models import Run

    p = Pipeline("coerced", params={"C": 1.0, "tags": ["a"]})
    p.node(inputs=["params:C", "params:tags"], outputs="out")(lambda c, tags: [c, *tags])
    run = p.run(params={"C": 1}, executor="inline")
    assert run.status == "succeeded"
    run.refresh_from_db()
    assert run.params == {"C": 1.0, "tags": ["a"]}
    assert type(run.params["C"]) is float
    before = Run.objects.count()
    with pytest.raises(ParamValidationError):
        p.run(params={"C": "abc"}, executor="inline")
    assert Run.objects.count() == before


# --- through the command line -----------------------------------------------------------

PIPELINES = """
from django_mlops import Param, Pipeline

typed_cli = Pipeline("typed_cli", params={
    "C": 1.0,
    "name": "iris",
    "solver": Param("lbfgs", choices=["lbfgs", "saga"]),
})

@typed_cli.node(inputs=["params:C", "params:name", "params:solver"], outputs="model")
def fit(C, name, solver):
    return [C, name, solver]
"""


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("params_cli")
    (folder / "typed_pipes.py").write_text(PIPELINES)
    return folder


def mlops(workspace: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``mlops ARGS`` as a user runs it, in standalone mode with MLOPS_HOME in ``workspace``."""
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    env.update(MLOPS_HOME=str(workspace / "home"), PYTHONPATH=str(REPO / "src"))
    return subprocess.run(
        [sys.executable, "-m", "django_mlops.cli", *args],
        cwd=workspace,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def recorded_runs(workspace: Path) -> list[tuple[int, str]]:
    """``(id, params JSON)`` of every Run row in the standalone SQLite database."""
    with sqlite3.connect(workspace / "home" / "db.sqlite3") as db:
        return db.execute("SELECT id, params FROM django_mlops_run ORDER BY id").fetchall()


def test_cli_refuses_a_bad_param_before_recording_a_run(workspace: Path) -> None:
    first = mlops(workspace, "run", "typed_pipes.py:typed_cli")
    assert first.returncode == 0, first.stderr
    before = recorded_runs(workspace)
    assert before
    bad = mlops(workspace, "run", "typed_pipes.py:typed_cli", "--param", "C=abc")
    assert bad.returncode == 2
    assert bad.stderr.strip().splitlines() == ["mlops: error: param 'C' must be a float, got 'abc'"]
    choice = mlops(workspace, "run", "typed_pipes.py:typed_cli", "-p", "solver=adam")
    assert choice.returncode == 2
    assert "param 'solver' must be one of 'lbfgs', 'saga', got 'adam'" in choice.stderr
    assert "Traceback" not in bad.stderr + choice.stderr
    assert recorded_runs(workspace) == before


def test_cli_int_for_a_float_param_is_not_a_change(workspace: Path) -> None:
    base = mlops(workspace, "run", "typed_pipes.py:typed_cli", "--param", "name=007")
    assert base.returncode == 0, base.stderr
    same = mlops(workspace, "run", "typed_pipes.py:typed_cli", "-p", "C=1", "-p", "name=007")
    assert same.returncode == 0, same.stderr
    assert "1 cached" in same.stdout
    runs = recorded_runs(workspace)
    assert '"C": 1.0' in runs[-1][1] and '"name": "007"' in runs[-1][1]
    changed = mlops(workspace, "run", "typed_pipes.py:typed_cli", "-p", "C=2", "-p", "name=007")
    assert changed.returncode == 0, changed.stderr
    status = mlops(workspace, "status", str(recorded_runs(workspace)[-1][0]))
    assert "param C changed" in status.stdout, status.stdout
