"""Defining pipelines: the decorator, concept steps, definition errors, discovery."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import django_mlops
from django_mlops import (
    CycleError,
    DuplicateNodeError,
    DuplicateOutputError,
    MissingInputError,
    Pipeline,
    PipelineError,
)
from django_mlops.discovery import get_pipeline, import_file, load_pipeline
from django_mlops.errors import PipelineNotFound, UnknownParamError
from django_mlops.pipeline_registry import _registry


@pytest.fixture(autouse=True)
def _isolated_registry() -> Iterator[None]:
    # Pipelines defined here are often invalid on purpose: keep them out of the
    # process-wide registry that autodiscover() validates.
    saved = dict(_registry)
    yield
    _registry.clear()
    _registry.update(saved)


def test_node_returns_function_unchanged_and_defaults() -> None:
    p = Pipeline("defs", params={"C": 1.0})

    def fit(train, C):  # type: ignore[no-untyped-def]
        """Fit the model.

        Longer text that is not part of the description.
        """
        return (train, C)

    decorated = p.node(outputs="model")(fit)
    assert decorated is fit
    assert fit("t", 2) == ("t", 2)
    node = p["fit"]
    assert node.inputs == ("train", "C") and node.outputs == ("model",)
    assert node.description == "Fit the model."
    assert (node.retries, node.timeout, node.cache, node.is_concept) == (0, None, True, False)
    assert node.returns_tuple is False


def test_bare_decorator_and_options() -> None:
    p = Pipeline("bare", params={"seed": 0})

    @p.node(outputs="frame")
    def frame():  # type: ignore[no-untyped-def]
        return 1

    @p.node(
        inputs=["frame", "params:seed"],
        outputs=["train", "test"],
        name="split_data",
        description="Split",
        tags="prep",
        retries=2,
        timeout=5,
        cache=False,
    )
    def split(frame, seed):  # type: ignore[no-untyped-def]
        return frame, seed

    assert [n.name for n in p.nodes][:2] == ["frame", "split_data"]
    node = p["split_data"]
    assert node.params == ("seed",) and node.datasets == ("frame",)
    assert node.tags == ("prep",) and node.retries == 2 and node.timeout == 5
    assert node.cache is False and node.returns_tuple is True

    @p.node
    def report(train, test):  # type: ignore[no-untyped-def]
        return None

    assert p["report"].inputs == ("train", "test") and p["report"].outputs == ()
    assert p.graph.node_count == 3
    p.validate()


def test_concept_step_is_a_node_without_code() -> None:
    p = Pipeline("with_concept")
    p.node(outputs="model")(lambda: 1)  # named <lambda>
    node = p.concept("explain", inputs=["model"], outputs="report", description="SHAP report")
    assert node.is_concept and node.func is None and node.description == "SHAP report"
    assert p.graph.is_concept(node.id) and node.id == 1
    p.validate()


def test_cycle_is_reported_with_its_path() -> None:
    p = Pipeline("cyclic")
    p.node(inputs=["c"], outputs="a", name="first")(lambda c: c)
    p.node(inputs=["a"], outputs="b", name="second")(lambda a: a)
    with pytest.raises(CycleError) as info:
        p.node(inputs=["b"], outputs="c", name="third")(lambda b: b)
    cycle = info.value.cycle
    assert cycle[0] == cycle[-1] and set(cycle) == {"first", "second", "third"}
    for name in ("first", "second", "third"):
        assert name in str(info.value)
    # The rejected node left the pipeline unchanged.
    assert [n.name for n in p.nodes] == ["first", "second"]


def test_missing_input_names_dataset_and_reader() -> None:
    p = Pipeline("missing")
    p.node(inputs=["nowhere"], outputs="out", name="reader")(lambda x: x)
    with pytest.raises(MissingInputError) as info:
        p.validate()
    assert (info.value.node, info.value.dataset) == ("reader", "nowhere")
    assert "nowhere" in str(info.value) and "reader" in str(info.value)


def test_duplicate_producer() -> None:
    p = Pipeline("dup_out")
    p.node(outputs="model", name="fit_a")(lambda: 1)
    with pytest.raises(DuplicateOutputError) as info:
        p.node(outputs="model", name="fit_b")(lambda: 2)
    assert info.value.dataset == "model"
    assert sorted(info.value.producers) == ["fit_a", "fit_b"]


def test_reused_node_name() -> None:
    p = Pipeline("dup_node")
    p.node(outputs="a", name="step")(lambda: 1)
    with pytest.raises(DuplicateNodeError) as info:
        p.node(outputs="b", name="step")(lambda: 2)
    assert info.value.node == "step" and "step" in str(info.value)


def test_unknown_param_names_node_and_param() -> None:
    p = Pipeline("params_check", params={"C": 1.0})
    with pytest.raises(UnknownParamError) as info:
        p.node(inputs=["params:gamma"], outputs="m", name="fit")(lambda g: g)
    assert str(info.value) == (
        "node 'fit' reads params:gamma, but pipeline 'params_check' has no param 'gamma' (known: C)"
    )
    assert isinstance(info.value, PipelineError) and isinstance(info.value, ValueError)


def test_bad_options_are_rejected() -> None:
    p = Pipeline("bad_options")
    with pytest.raises(PipelineError, match="retries must be >= 0"):
        p.node(outputs="a", retries=-1)(lambda: 1)
    with pytest.raises(PipelineError, match="timeout must be > 0"):
        p.node(outputs="a", timeout=0)(lambda: 1)
    with pytest.raises(PipelineError, match=r"cannot infer inputs from \*args"):
        p.node(outputs="a")(lambda *args: 1)


def test_registry_replaces_same_module_and_refuses_other_module(tmp_path: Path) -> None:
    first = Pipeline("registry_case")
    second = Pipeline("registry_case")
    assert get_pipeline("registry_case") is second and first is not second
    other = tmp_path / "other_registry_module.py"
    other.write_text("from django_mlops import Pipeline\nPipeline('registry_case')\n")
    with pytest.raises(PipelineError, match="already defined in module"):
        import_file(other)


def test_load_pipeline_references(tmp_path: Path) -> None:
    path = tmp_path / "user_pipelines_a.py"
    path.write_text(
        textwrap.dedent(
            """
            from django_mlops import Pipeline
            demo = Pipeline("file_demo")
            @demo.node(outputs="x")
            def make():
                return 1
            """
        )
    )
    by_file = load_pipeline(f"{path}:demo")
    assert by_file.name == "file_demo"
    assert load_pipeline(str(path)) is by_file  # the only pipeline in the file
    assert load_pipeline("file_demo") is by_file
    assert load_pipeline("user_pipelines_a:demo") is by_file  # its stable module name
    assert by_file["make"].func.__module__ == "user_pipelines_a"  # type: ignore[union-attr]
    with pytest.raises(PipelineNotFound, match="no pipeline named 'nope'"):
        load_pipeline("nope")
    with pytest.raises(PipelineNotFound, match="has no pipeline 'other'"):
        load_pipeline(f"{path}:other")


def test_import_without_django_settings() -> None:
    code = (
        "import django_mlops\n"
        "from django_mlops import Pipeline, log_metric\n"
        "p = Pipeline('standalone', params={'k': 1})\n"
        "@p.node(inputs=['params:k'], outputs='v')\n"
        "def f(k):\n"
        "    log_metric('m', 1.0)\n"
        "    return k\n"
        "r = p.run(record=False)\n"
        "print(r.status, r.output('v'))\n"
    )
    env = {"PATH": "/usr/bin:/bin"}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=False
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "succeeded 1"


def test_public_api() -> None:
    for name in django_mlops.__all__:
        assert getattr(django_mlops, name) is not None
    with pytest.raises(AttributeError):
        django_mlops.not_a_name  # noqa: B018


def test_definition_is_linear_in_nodes() -> None:
    # Counted, not timed: the number of Python and C function calls made while
    # adding nodes is deterministic, and quadratic construction (re-validating
    # every node on each add) would make 4x the nodes cost ~16x the calls.
    def calls_to_build(n: int) -> int:
        p = Pipeline(f"scale_{n}")
        count = 0

        def profiler(frame: object, event: str, arg: object) -> None:
            nonlocal count
            if event in ("call", "c_call"):
                count += 1

        sys.setprofile(profiler)
        try:
            for i in range(n):
                inputs = [f"d{i - 1}"] if i else []
                p.node(inputs=inputs, outputs=f"d{i}", name=f"n{i}")(_identity)
        finally:
            sys.setprofile(None)
        return count

    small, large = calls_to_build(500), calls_to_build(2000)
    assert large < small * 4.5, (small, large)


def _identity(*args: object) -> object:
    return args[0] if args else None


def test_autodiscover_imports_configured_modules_and_validates(
    tmp_path: Path, settings: object
) -> None:
    from django_mlops.discovery import autodiscover

    good = tmp_path / "configured_pipelines_a.py"
    good.write_text(
        "from django_mlops import Pipeline\n"
        "configured = Pipeline('configured_a')\n"
        "configured.node(outputs='x', name='make')(lambda: 1)\n"
    )
    settings.MLOPS = {**settings.MLOPS, "PIPELINE_MODULES": [str(good)]}  # type: ignore[attr-defined]
    names = {p.name for p in autodiscover()}
    assert "configured_a" in names
    broken = tmp_path / "configured_pipelines_b.py"
    broken.write_text(
        "from django_mlops import Pipeline\n"
        "broken = Pipeline('configured_b')\n"
        "broken.node(inputs=['nothing'], outputs='y', name='needy')(lambda n: n)\n"
    )
    settings.MLOPS = {**settings.MLOPS, "PIPELINE_MODULES": [str(broken)]}  # type: ignore[attr-defined]
    with pytest.raises(MissingInputError, match="nothing"):
        autodiscover()


def test_autodiscover_propagates_errors_inside_app_pipelines(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from django.apps import apps

    from django_mlops.discovery import autodiscover

    package = tmp_path / "fake_app_with_pipelines"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "pipelines.py").write_text("raise RuntimeError('broken pipelines module')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    import fake_app_with_pipelines  # type: ignore[import-not-found]

    class FakeConfig:
        name = "fake_app_with_pipelines"
        module = fake_app_with_pipelines

    monkeypatch.setattr(apps, "get_app_configs", lambda: [FakeConfig()])
    with pytest.raises(RuntimeError, match="broken pipelines module"):
        autodiscover()


# --- a node's function must take its inputs -------------------------------------------


def test_too_few_inputs_name_the_node_and_the_parameter() -> None:
    p = Pipeline("sig_few")

    def f(x, y):  # type: ignore[no-untyped-def]
        return x, y

    with pytest.raises(PipelineError) as info:
        p.node(inputs=["a"], outputs="b")(f)
    assert str(info.value) == (
        "node 'f' declares 1 input ['a'] but its function f(x, y) takes 2 parameters; "
        "missing an input for 'y'"
    )
    assert "f" not in p  # nothing was added


def test_too_many_inputs_name_the_extra_ones() -> None:
    p = Pipeline("sig_many")

    def g(x: int, y: int = 3) -> int:
        return x + y

    with pytest.raises(PipelineError) as info:
        p.node(inputs=["a", "b", "c", "d"], outputs="e")(g)
    assert str(info.value) == (
        "node 'g' declares 4 inputs ['a', 'b', 'c', 'd'] but its function g(x, y=3) "
        "takes 1 to 2 parameters; no parameter for input 'c', 'd'"
    )


def test_keyword_only_without_default_is_refused() -> None:
    p = Pipeline("sig_kwonly")

    def h(x, *, scale):  # type: ignore[no-untyped-def]
        return x * scale

    with pytest.raises(PipelineError) as info:
        p.node(inputs=["a"], outputs="b")(h)
    assert "node 'h': its function h(x, *, scale) has keyword-only parameter 'scale'" in str(
        info.value
    )
    with pytest.raises(PipelineError, match="keyword-only parameter 'scale'"):
        p.node(outputs="b")(h)  # inputs inferred: the same problem


def test_defaults_varargs_and_keyword_defaults_fit() -> None:
    p = Pipeline("sig_ok", params={"k": 2})

    def source() -> int:
        return 1

    def with_default(a: int, k: int = 5, *, verbose: bool = False) -> int:
        return a * k

    def many(*values: int) -> int:
        return sum(values)

    def at_least_one(first: int, *rest: int, **options: Any) -> int:
        return first + sum(rest)

    p.node(outputs="a")(source)
    p.node(inputs=["a"], outputs="b", name="default_left_out")(with_default)
    p.node(inputs=["a", "params:k"], outputs="c", name="default_given")(with_default)
    p.node(inputs=["a", "b", "c"], outputs="e")(many)
    p.node(inputs=[], outputs="f", name="no_values")(many)
    p.node(inputs=["a", "b", "c", "e"], outputs="g")(at_least_one)
    inferred = Pipeline("sig_inferred")
    inferred.node(outputs="d")(with_default)  # positional names only, not `verbose`
    assert inferred["with_default"].inputs == ("a", "k")
    with pytest.raises(PipelineError, match=r"takes at least 1 parameter; missing an input"):
        p.node(inputs=[], outputs="h", name="none_given")(at_least_one)
    run = p.run(record=False)
    assert run.status == "succeeded"
    assert (run.output("b"), run.output("c"), run.output("e"), run.output("g")) == (5, 2, 8, 16)


def test_callable_objects_and_builtins_are_checked_when_they_can_be() -> None:
    import functools

    p = Pipeline("sig_objects")
    three = functools.partial(int, "3")  # int has no signature to read: not checked
    with pytest.raises(PipelineError, match="node 'three': cannot read the parameters"):
        p.node(outputs="a", name="three")(three)
    p.node(inputs=[], outputs="a", name="three")(three)
    p.node(inputs=["a", "a"], outputs="b", name="power")(pow)  # a builtin with a signature
    with pytest.raises(PipelineError, match=r"node 'once' declares 1 input .* for 'exp'"):
        p.node(inputs=["a"], outputs="c", name="once")(functools.partial(pow))
    with pytest.raises(PipelineError, match=r"takes 2 to 3 parameters; no parameter for input 'a'"):
        p.node(inputs=["a", "a", "a", "a"], outputs="c", name="pow4")(pow)
    assert p.run(record=False).output("b") == 27


# --- notebook cells run again -------------------------------------------------------------


def run_python(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    """A real interpreter, with this checkout's package and no Django settings."""
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    env["PYTHONPATH"] = str(Path(__file__).resolve().parent.parent / "src")
    return subprocess.run(
        [sys.executable, *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )


CELLS = [
    # cell 1: the pipeline
    "from django_mlops import Pipeline\np = Pipeline('cells', params={'k': 2})\n",
    # cell 2: two nodes
    "@p.node(outputs='a')\ndef load():\n    return 1\n\n"
    "@p.node(inputs=['a', 'params:k'], outputs='b')\ndef scale(a, k):\n    return a * k\n",
    # cell 2 again, edited: `load` now returns 10
    "@p.node(outputs='a')\ndef load():\n    return 10\n\n"
    "@p.node(inputs=['a', 'params:k'], outputs='b')\ndef scale(a, k):\n    return a * k\n",
    "print('nodes', [(n.name, n.id) for n in p.nodes], len(p.graph.topological_order()))\n"
    "print('result', p.run(record=False).output('b'))\n",
]


def test_python_c_replaces_a_redefined_node() -> None:
    result = run_python("-c", "\n".join(CELLS))
    assert result.returncode == 0, result.stderr
    assert "nodes [('load', 0), ('scale', 1)] 2" in result.stdout
    assert "result 20" in result.stdout


def test_interactive_console_replaces_redefined_nodes_and_pipelines() -> None:
    # What a REPL or a notebook kernel does: each cell compiled and run in one __main__.
    # A cell that defines the whole pipeline again starts it afresh.
    whole = "p = Pipeline('cells', params={'k': 3})\n" + CELLS[2]
    bad = "@p.node(inputs=['b'], outputs='a')\ndef load(b):\n    return b\n"
    cells = [*CELLS, bad, CELLS[3], whole, CELLS[3]]
    feeder = (
        "import code, sys\n"
        "console = code.InteractiveConsole({'__name__': '__main__'})\n"
        "for cell in " + repr(cells) + ":\n"
        "    console.runcode(compile(cell, '<cell>', 'exec'))\n"
    )
    result = run_python("-c", feeder)
    assert result.returncode == 0, result.stderr
    out = result.stdout.splitlines()
    assert out.count("nodes [('load', 0), ('scale', 1)] 2") == 3
    assert [line for line in out if line.startswith("result")] == [
        "result 20",
        "result 20",  # the cyclic redefinition was refused and the pipeline kept
        "result 30",
    ]
    assert "CycleError" in result.stderr and "load -> scale -> load" in result.stderr


def test_python_i_with_piped_stdin_replaces_nodes() -> None:
    session = "".join(cell + "\n" for cell in CELLS)
    result = run_python("-i", "-q", stdin=session)
    assert result.returncode == 0, result.stderr
    assert "result 20" in result.stdout
    assert "used twice" not in result.stderr


def test_a_module_file_still_refuses_a_reused_name(tmp_path: Path) -> None:
    script = tmp_path / "cells_as_script.py"
    script.write_text("\n".join(CELLS))
    result = run_python(str(script))
    assert result.returncode == 1
    assert "node name 'load' is used twice" in result.stderr
