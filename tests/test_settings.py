"""One settings object: defaults < VIGIL_CONFIG file < VIGIL_* variables < command line; nothing set on
import; process-wide settings applied by the entry points."""

from __future__ import annotations

import subprocess
import sys

import pytest

from vigil.errors import VigilError
from vigil.settings import Settings, parse_size, prepare_process


def test_sources_in_order(tmp_path):
    config = tmp_path / "vigil.toml"
    config.write_text('[vigil]\npublic_org = "from-file"\nmax_public_body = "32KiB"\nblas_threads = 2\n')
    env = {"VIGIL_CONFIG": str(config), "VIGIL_PUBLIC_ORG": "from-env", "VIGIL_MAX_BODY": "1MiB"}
    settings = Settings.load(env)
    assert (settings.public_org, settings.max_public_body, settings.max_body) == ("from-env", 32768, 2**20)
    assert settings.blas_threads == 2 and settings.redis_url is None
    assert Settings.load(env, public_org="from-option", db=None).public_org == "from-option"
    assert Settings.from_json(settings.to_json()) == settings


@pytest.mark.parametrize(
    ("env", "file", "message"),
    [
        ({"VIGIL_MAX_BODY": "lots"}, None, "VIGIL_MAX_BODY: expected a size in bytes"),
        ({"VIGIL_MAX_PUBLIC_BODY": "0"}, None, "VIGIL_MAX_PUBLIC_BODY: must be a positive size"),
        ({"VIGIL_BLAS_THREADS": "two"}, None, "VIGIL_BLAS_THREADS: expected a whole number"),
        ({}, "max_bodyy = 5\n", "unknown setting 'max_bodyy'"),
        ({}, "public_org = 5\n", "public_org: expected text"),
        ({}, "not toml [\n", "not TOML"),
    ],
)
def test_a_bad_value_is_one_error_naming_its_source(tmp_path, env, file, message):
    if file is not None:
        (tmp_path / "c.toml").write_text(file)
        env = {**env, "VIGIL_CONFIG": str(tmp_path / "c.toml")}
    with pytest.raises(VigilError, match=message):
        Settings.load(env)


def test_sizes():
    assert [parse_size(t, "x") for t in ("65536", "64KiB", "64k", "16 MiB", "1g")] == [
        65536, 65536, 65536, 16 * 2**20, 2**30
    ]  # fmt: skip


def test_importing_vigil_changes_nothing_in_the_process():
    code = (
        "import os, PIL.Image as I; before = dict(os.environ), I.MAX_IMAGE_PIXELS\n"
        "import vigil, vigil.media.images, vigil.scan.pipeline, vigil.api.app\n"
        "assert (dict(os.environ), I.MAX_IMAGE_PIXELS) == before, 'changed on import'\n"
    )
    env = {"PATH": "/usr/bin:/bin", "HOME": "/tmp"}
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_prepare_process_applies_blas_threads_and_image_limits(monkeypatch):
    from PIL import Image

    for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("OMP_NUM_THREADS", "3")  # a user's own choice wins
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", Image.MAX_IMAGE_PIXELS)
    prepare_process(Settings(blas_threads=1, max_image_pixels=1234), images=True)
    import os

    assert (os.environ["OPENBLAS_NUM_THREADS"], os.environ["OMP_NUM_THREADS"]) == ("1", "3")
    assert Image.MAX_IMAGE_PIXELS == 1234
    prepare_process(Settings(), images=True)


def test_a_bad_setting_stops_the_cli_with_one_line(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "VIGIL_MAX_BODY": "lots"}
    result = subprocess.run(
        [sys.executable, "-m", "vigil.cli.main", "hashset", "list", "--db", tmp_path / "x.db"],
        env=env, capture_output=True, text=True,
    )  # fmt: skip
    assert result.returncode == 2
    assert result.stderr.startswith("error: VIGIL_MAX_BODY: expected a size in bytes")


def test_serve_reads_the_config_file(tmp_path):
    config = tmp_path / "vigil.toml"
    config.write_text('[vigil]\npublic_org = "No Such Desk"\n')
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "VIGIL_CONFIG": str(config)}
    result = subprocess.run(
        [sys.executable, "-m", "vigil.cli.main", "serve", "--port", "1", "--db", tmp_path / "s.db"],
        env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 2
    assert result.stderr.startswith("error: --public-org: no organisation named 'No Such Desk'")
