"""The website's parts on their own: the traceback marker, the timeline, the form's reading."""

from __future__ import annotations

import datetime as dt

from django_mlops.web.forms import param_fields, submitted_params
from django_mlops.web.timeline import build_timeline
from django_mlops.web.tracebacks import marked_traceback
from tests import web_pipelines

TRACEBACK = """Traceback (most recent call last):
  File "/work/src/django_mlops/run/inline_loop.py", line 88, in run_node
    value = func(*args)
            ^^^^^^^^^^^
  File "/home/ana/project/pipes.py", line 12, in fit
    model = train(frame)
  File "/home/ana/project/helpers.py", line 40, in train
    return frame["nope"]
  File "/usr/lib/python3/dist-packages/pandas/core/frame.py", line 3761, in __getitem__
    indexer = self.columns.get_loc(key)
KeyError: 'nope'"""


def test_the_users_innermost_line_is_marked_not_the_librarys() -> None:
    lines = marked_traceback(TRACEBACK)
    marked = [line.text for line in lines if line.user]
    assert marked == [
        '  File "/home/ana/project/helpers.py", line 40, in train',
        '    return frame["nope"]',
    ]
    assert sum(line.frame for line in lines) == 4
    assert lines[-1].text == "KeyError: 'nope'" and not lines[-1].user


def test_a_traceback_of_library_frames_only_marks_the_last_frame() -> None:
    text = 'Traceback:\n  File "<frozen runpy>", line 1, in x\n    boom()\nError'
    assert next(line.text for line in marked_traceback(text) if line.user).endswith("in x")


def test_the_timeline_marks_the_critical_path() -> None:
    start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)

    def at(s: float) -> dt.datetime:
        return start + dt.timedelta(seconds=s)

    rows = [
        ("load", "succeeded", at(0), at(1), 1.0),
        ("fit", "succeeded", at(1), at(9), 8.0),
        ("evaluate", "succeeded", at(9), at(10), 1.0),
        ("explain", "not_started", None, None, None),
    ]
    timeline = build_timeline(web_pipelines.web_demo, rows)
    assert timeline.critical == ["load", "fit", "evaluate"]
    assert timeline.critical_seconds == 10.0 and timeline.span == 10.0
    fit = next(b for b in timeline.bars if b.node == "fit")
    assert (round(fit.offset), round(fit.width), fit.critical) == (10, 80, True)
    assert [b.node for b in timeline.bars] == ["load", "fit", "evaluate"]


def test_the_form_reads_checkboxes_and_keeps_defaults_for_emptied_fields() -> None:
    values = submitted_params(web_pipelines.web_demo, {"param-C": "", "param-seed": "3"})
    assert values == {"scale": "false", "seed": "3"}
    fields = {f.name: f for f in param_fields(web_pipelines.web_demo)}
    assert fields["C"].widget == "number" and fields["C"].minimum == 0.0
    assert fields["solver"].widget == "select" and fields["solver"].choices == ("lbfgs", "saga")
    assert fields["scale"].widget == "checkbox" and fields["scale"].checked
