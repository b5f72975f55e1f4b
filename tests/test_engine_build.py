"""How the engine is built: warnings are errors for the project, never for a user's install."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

from scikit_build_core.settings.skbuild_read_settings import SettingsReader

REPO = Path(__file__).resolve().parent.parent


def _wheel_defines(config_settings: dict[str, str | list[str]]) -> dict[str, object]:
    # What scikit-build-core passes to CMake for `pip install`/`pip wheel` of the sdist.
    reader = SettingsReader.from_file(REPO / "pyproject.toml", config_settings)
    return dict(reader.settings.cmake.define)


def test_a_users_pip_install_does_not_treat_warnings_as_errors() -> None:
    assert _wheel_defines({})["MLOPS_ENGINE_WERROR"] == "OFF"


def test_the_projects_own_builds_treat_warnings_as_errors() -> None:
    # setup.sh's editable build passes a config setting that turns it back on.
    setup = (REPO / "scripts" / "setup.sh").read_text()
    settings = dict(
        arg[len("-C") :].split("=", 1)
        for arg in shlex.split(setup.replace("\\\n", " "), comments=True)
        if arg.startswith("-Ccmake.define.")
    )
    assert settings, "setup.sh passes no cmake.define config setting"
    assert _wheel_defines(dict(settings))["MLOPS_ENGINE_WERROR"] == "ON"
    # test.sh's C++ builds (Release and sanitizers) configure with it on.
    test_sh = (REPO / "scripts" / "test.sh").read_text()
    configures = re.findall(r"^cmake -S .*?(?<!\\)$", test_sh, flags=re.M | re.S)
    assert len(configures) == 2
    assert all("-DMLOPS_ENGINE_WERROR=ON" in c for c in configures)
