"""The Size page in chromium on real TensorRT-RTX builds: an INT8 EfficientNet-B0 bigger than its FP32 build is
explained before anything else on the page (screenshot: size-int8-bigger-than-fp32.png in the artifacts folder)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from browser.conftest import _serve, _stop, open_app


@pytest.fixture(scope="module")
def zoo_url(rtx_zoo_builds, rtx_env):
    from engine_core.store import RunStore

    root = rtx_env / "zoo-runs"
    ids = {r.name: r.run_id for r in RunStore(root).list_runs()}
    proc, url = _serve(root)
    yield url, ids
    _stop(proc)


def test_size_page_says_why_int8_is_bigger_first(page, zoo_url, screenshot):
    url, ids = zoo_url
    main = open_app(page, f"{url}/size?run={ids['efficientnet_b0-int8-ort-uncalibrated']}&baseline={ids['efficientnet_b0-fp32']}")
    first = main.locator("h3").first
    expect(first).to_have_text("Why is efficientnet_b0-int8-ort-uncalibrated bigger than efficientnet_b0-fp32?",
                               timeout=30000)
    expect(main.locator("[data-testid='stAlertContentWarning']")).to_contain_text("constants of generated kernels")
    expect(main).to_contain_text("What to try.")
    expect(main.locator(".js-plotly-plot").first).to_contain_text("What grew", timeout=30000)
    expect(main).to_contain_text("Largest constants of generated kernels")
    screenshot(page, "size-int8-bigger-than-fp32")
