"""Code hashes follow what a function uses from the project, and ignore what does not matter."""

from __future__ import annotations

import importlib
import itertools
import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from django_mlops.codehash import code_hash, is_project_module

_counter = itertools.count()


@pytest.fixture
def load(tmp_path: Path) -> Iterator[Callable[..., dict[str, ModuleType]]]:
    """Write modules (name -> source) to a fresh folder and import them under those names."""
    added: list[str] = []

    def write_and_import(**sources: str) -> dict[str, ModuleType]:
        folder = tmp_path / f"v{next(_counter)}"
        folder.mkdir()
        for name, source in sources.items():
            (folder / f"{name}.py").write_text(textwrap.dedent(source))
            sys.modules.pop(name, None)
        sys.path.insert(0, str(folder))
        importlib.invalidate_caches()
        try:
            modules = {name: importlib.import_module(name) for name in sources}
        finally:
            sys.path.remove(str(folder))
        added.extend(sources)
        return modules

    yield write_and_import
    for name in added:
        sys.modules.pop(name, None)


HELPERS = """
    SCALE = 2

    def double(x):
        return x * SCALE

    def unrelated():
        return 0
"""
NODES = """
    import json
    from helpers import double
    import helpers

    def direct(x):
        return double(x)

    def via_module(x):
        return helpers.double(x)

    def indirect(x):
        return direct(x) + 1

    def independent(x):
        return json.dumps(x)
"""


def _hashes(mods: dict[str, ModuleType]) -> dict[str, str]:
    nodes = mods["nodes"]
    return {
        n: code_hash(getattr(nodes, n)) for n in ("direct", "via_module", "indirect", "independent")
    }


def test_changing_a_helper_invalidates_every_caller(load: Any) -> None:
    before = _hashes(load(helpers=HELPERS, nodes=NODES))
    after = _hashes(load(helpers=HELPERS.replace("x * SCALE", "x * SCALE + 0"), nodes=NODES))
    assert before["direct"] != after["direct"]
    assert before["via_module"] != after["via_module"]
    assert before["indirect"] != after["indirect"]  # transitively, through direct()
    assert before["independent"] == after["independent"]


def test_comments_whitespace_and_docstrings_do_not_count(load: Any) -> None:
    before = _hashes(load(helpers=HELPERS, nodes=NODES))
    noisy_helpers = HELPERS.replace(
        "def double(x):\n", 'def double(x):\n        """Twice."""\n        # why: scale\n\n'
    )
    noisy_nodes = NODES.replace("return double(x)", "return double( x )  # comment")
    after = _hashes(load(helpers=noisy_helpers, nodes=noisy_nodes))
    assert before == after


def test_a_module_constant_counts(load: Any) -> None:
    before = _hashes(load(helpers=HELPERS, nodes=NODES))
    after = _hashes(load(helpers=HELPERS.replace("SCALE = 2", "SCALE = 3"), nodes=NODES))
    assert before["direct"] != after["direct"]
    assert before["independent"] == after["independent"]


def test_an_unused_helper_does_not_count(load: Any) -> None:
    before = _hashes(load(helpers=HELPERS, nodes=NODES))
    after = _hashes(load(helpers=HELPERS.replace("return 0", "return 1"), nodes=NODES))
    assert before == after


def test_closures_count(load: Any) -> None:
    source = """
        def make(factor):
            def node(x):
                return x * factor
            return node
    """
    mod = load(closures=source)["closures"]
    assert code_hash(mod.make(2)) == code_hash(mod.make(2))
    assert code_hash(mod.make(2)) != code_hash(mod.make(3))


def test_decorator_lines_do_not_count(load: Any) -> None:
    plain = load(deco="def node(x):\n    return x + 1\n")["deco"].node
    decorated = load(
        deco="""
        def keep(**options):
            return lambda f: f

        @keep(outputs="y", retries=2)
        def node(x):
            return x + 1
    """
    )["deco"].node
    assert code_hash(plain) == code_hash(decorated)


def test_methods_of_project_classes_count(load: Any) -> None:
    source = """
        class Model:
            def fit(self, x):
                return x + 1

        def node(x):
            return Model().fit(x)
    """
    before = code_hash(load(classes=source)["classes"].node)
    after = code_hash(load(classes=source.replace("x + 1", "x + 2"))["classes"].node)
    assert before != after


def test_mutual_recursion_terminates(load: Any) -> None:
    source = """
        def even(n):
            return True if n == 0 else odd(n - 1)

        def odd(n):
            return False if n == 0 else even(n - 1)
    """
    mod = load(cycle=source)["cycle"]
    assert len(code_hash(mod.even)) == 64
    changed = load(cycle=source.replace("return False", "return None"))["cycle"]
    assert code_hash(mod.even) != code_hash(changed.even)


def test_third_party_code_counts_by_name_only() -> None:
    import json

    assert not is_project_module("json") and not is_project_module("numpy")
    assert not is_project_module("django_mlops.pipeline")
    assert is_project_module(__name__)
    assert code_hash(json.dumps) == code_hash(json.dumps)


def test_source_free_functions_hash_their_bytecode() -> None:
    scope: dict[str, Any] = {}
    exec("def f(x):\n    return x + 1\n", scope)  # no source file
    exec("def g(x):\n    return x + 2\n", scope)
    assert code_hash(scope["f"]) != code_hash(scope["g"])
    assert code_hash(scope["f"]) == code_hash(scope["f"])


def test_functions_held_in_module_containers_count(load: Any) -> None:
    source = """
        def scale(x):
            return x * 2

        STEPS = {"scale": scale, "names": ("a", "b")}

        def node(x):
            return STEPS["scale"](x)
    """
    before = code_hash(load(table=source)["table"].node)
    after = code_hash(load(table=source.replace("x * 2", "x * 3"))["table"].node)
    same = code_hash(load(table=source)["table"].node)
    assert before != after and before == same
