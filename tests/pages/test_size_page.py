"""AppTest of the Size page on real TensorRT-RTX builds: when an INT8 engine is bigger than its FP32 build, the
page says why before anything else, and names the generated-kernel constants (never bias)."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from tests.pages.test_app import APP, open_page, texts


@pytest.fixture
def zoo_app(rtx_zoo_builds, rtx_env, monkeypatch):
    monkeypatch.setenv("LAYERLENS_RUNS", str(rtx_env / "zoo-runs"))
    monkeypatch.setenv("LAYERLENS_NO_DEMO", "1")
    return AppTest.from_file(APP, default_timeout=120)


@pytest.fixture
def zoo_runs(rtx_zoo_builds, rtx_env):
    from engine_core.store import RunStore

    return {r.name: r.run_id for r in RunStore(rtx_env / "zoo-runs").list_runs()}


def test_size_page_answers_why_int8_is_bigger_first(zoo_app, zoo_runs):
    int8, fp32 = zoo_runs["efficientnet_b0-int8-ort-uncalibrated"], zoo_runs["efficientnet_b0-fp32"]
    open_page(zoo_app, "size", int8, fp32)
    headers = [h.value for h in zoo_app.subheader]
    assert headers[0] == "Why is efficientnet_b0-int8-ort-uncalibrated bigger than efficientnet_b0-fp32?"
    warning = zoo_app.warning[0].value
    assert warning.startswith("efficientnet_b0-int8-ort-uncalibrated (INT8) is ")
    assert "constants of generated kernels 0.00 MiB -> " in warning and "[1,96,3,112,112] INT8" in warning
    body = texts(zoo_app)
    assert "**What to try.** Build with the `tensorrt` Q/DQ placement" in body
    assert "Largest constants of generated kernels" in headers
    table = next(d.value for d in zoo_app.dataframe if "dims" in d.value.columns)
    assert table.iloc[0]["dims"] == "[1,96,3,112,112]" and table.iloc[0]["precision"] == "INT8"
    statement = zoo_app.info[0].value
    assert "generated kernels hold" in statement and "Total Weights Memory" in statement


def test_size_page_without_growth_starts_with_the_account(zoo_app, zoo_runs):
    open_page(zoo_app, "size", zoo_runs["resnet50-int8-tensorrt-uncalibrated"], zoo_runs["resnet50-fp32"])
    assert not zoo_app.warning and not any(h.value.startswith("Why is") for h in zoo_app.subheader)
    assert "(+0.7%)" in zoo_app.info[0].value  # stored constants against Total Weights Memory
