"""The per-process model cache: one load per version, and a hot swap when an alias moves."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection, connections

from django_mlops.models import ModelVersion
from django_mlops.registry import ModelCache, predict, set_alias
from tests import registry_pipelines as models

pytestmark = [pytest.mark.usefixtures("tmp_mlops_home")]


@pytest.mark.django_db
def test_a_version_is_loaded_once_and_an_alias_move_is_seen_at_once() -> None:
    models.iris_models.run(executor="inline")
    models.iris_models.run(executor="inline", params={"C": 0.001})
    set_alias("iris-test", "production", 1)
    cache = ModelCache(size=4)
    first = cache.get("iris-test")
    assert cache.get("iris-test") is first  # cached: no second load
    assert first.version == 1
    set_alias("iris-test", "production", 2)
    swapped = cache.get("iris-test")
    assert swapped.version == 2 and swapped is not first
    assert cache.loaded_versions() == [("iris-test", 1), ("iris-test", 2)]
    small = ModelCache(size=1)
    small.get("iris-test", version=1)
    small.get("iris-test", version=2)
    assert small.loaded_versions() == [("iris-test", 2)]


@pytest.mark.django_db
def test_a_resolved_version_needs_one_query_per_request() -> None:
    from django.test.utils import CaptureQueriesContext

    models.iris_models.run(executor="inline")
    set_alias("iris-test", "production", 1)
    cache = ModelCache()
    cache.get("iris-test")
    with CaptureQueriesContext(connection) as queries:
        cache.get("iris-test")
        cache.get("iris-test", version=1)
    assert len(queries) == 2


@pytest.mark.django_db(transaction=True)
def test_hot_swap_under_concurrent_requests() -> None:
    models.iris_models.run(executor="inline")
    models.iris_models.run(executor="inline", params={"C": 0.001})
    set_alias("iris-test", "production", 1)
    frame = models.iris_frame()
    rows = frame.drop(columns="target").iloc[[0, 75]]
    records = rows.to_dict("records")
    # What each version answers, computed apart from the registry.
    expected = {
        v: [round(p, 9) for p in models.fit_logistic(frame, c).predict_proba(rows)[0]]
        for v, c in ((1, 1.0), (2, 0.001))
    }
    assert expected[1] != expected[2]
    cache = ModelCache()
    answers: list[tuple[int, list[float]]] = []
    failures: list[BaseException] = []
    stop = threading.Event()

    def client() -> None:
        try:
            while not stop.is_set():
                answer = predict("iris-test", records, proba=True, cache=cache)
                assert answer.probabilities is not None
                probabilities = [round(p, 9) for p in answer.probabilities[0].values()]
                answers.append((answer.version, probabilities))
        except BaseException as exc:  # reported by the main thread
            failures.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=client) for _ in range(4)]
    for thread in threads:
        thread.start()
    seen_after_move = []
    for target in (2, 1, 2):
        time.sleep(0.3)
        set_alias("iris-test", "production", target)
        moved_at = len(answers)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and not any(v == target for v, _ in answers[moved_at:]):
            time.sleep(0.01)
        seen_after_move.append(any(v == target for v, _ in answers[moved_at:]))
    time.sleep(0.2)
    stop.set()
    for thread in threads:
        thread.join(10)
    assert not failures, failures
    assert seen_after_move == [True, True, True]
    assert {v for v, _ in answers} == {1, 2} and len(answers) > 20
    # Every answer came from exactly the version it names.
    wrong = [(v, p) for v, p in answers if p != expected[v]]
    assert not wrong, wrong[:3]
    assert ModelVersion.objects.count() == 2


@pytest.mark.django_db
def test_unknown_names_are_errors_that_say_what_to_do() -> None:
    from django_mlops.registry import ModelNotFoundError

    cache = ModelCache()
    with pytest.raises(ModelNotFoundError, match="no registered model named 'iris-test'"):
        cache.get("iris-test")
    models.iris_models.run(executor="inline")
    with pytest.raises(ModelNotFoundError, match="mlops models promote iris-test production"):
        cache.get("iris-test")
    with pytest.raises(ModelNotFoundError, match=r"has no version 5$"):
        cache.get("iris-test", version=5)
    with pytest.raises(ValueError, match="not both"):
        cache.get("iris-test", alias="production", version=1)
    assert cache.get("iris-test", version=1).version == 1
