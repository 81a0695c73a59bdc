"""Sharing the dashboard, in chromium: an exposed server shows nothing without its token, and a read-only one
offers no way to change the store."""

from __future__ import annotations

import re
import sys

import pytest
from playwright.sync_api import expect

from browser.conftest import open_app
from conftest import REPO
from dashboard_process import free_port, start_dashboard

pytestmark = pytest.mark.browser

REFUSED = "this browser tab has not brought it"


def _serve(store, *extra):
    port = free_port()
    argv = [sys.executable, "-m", "layerlens", "dashboard", "--headless", "--no-demo", "--port", str(port),
            "--store", str(store), *extra]
    return start_dashboard(argv, port, cwd=REPO)


@pytest.fixture(scope="module")
def exposed(seeded_store):
    """`layerlens dashboard --host 0.0.0.0`: ``(dashboard, its link reached from this machine, the token)``."""
    dashboard = _serve(seeded_store, "--host", "0.0.0.0")
    token = dashboard.link.rsplit("?token=", 1)[1]
    yield dashboard, f"http://127.0.0.1:{dashboard.port}", token
    dashboard.stop()


@pytest.fixture(scope="module")
def read_only(seeded_store):
    dashboard = _serve(seeded_store, "--read-only")
    yield f"http://127.0.0.1:{dashboard.port}"
    dashboard.stop()


@pytest.mark.parametrize("path", ["/", "/runs", "/layers?run=whatever", "/?token=not-the-token"])
def test_without_the_token_the_page_shows_only_how_to_get_in(page, exposed, seeded_store, path, screenshot):
    _, base, _ = exposed
    main = open_app(page, base + path)
    expect(main).to_contain_text(REFUSED)
    expect(main).to_contain_text("it ends in ?token=…")
    if "token=" in path:
        expect(main).to_contain_text("The token in this link is not this dashboard's.")
        page.wait_for_function("() => !location.search.includes('token')")
    expect(page.locator("[data-testid='stSidebarNav']")).to_have_count(0)
    expect(page.locator("[data-testid='stSidebar']")).to_have_count(0)
    body = page.locator("[data-testid='stApp']")
    for secret in ("resnet", "mobilenet", str(seeded_store), "GPU compute"):
        expect(body).not_to_contain_text(secret)
    if path == "/runs":
        screenshot(page, "sharing-refused")


def test_the_tokenised_link_opens_every_page_and_leaves_the_address_bar(page, exposed, screenshot):
    dashboard, base, token = exposed
    main = open_app(page, f"{base}/?token={token}")
    expect(main).to_contain_text("GPU compute median", timeout=60000)
    page.wait_for_function("() => !location.search.includes('token') && location.search.includes('run=')")
    with page.expect_download() as download:  # what a user shares from here carries no token
        page.get_by_role("button", name="Export this view (HTML)").click()
    assert token not in open(download.value.path(), encoding="utf-8").read()
    for link, heading in (("Layers", "Layers"), ("Compare", "Compare"), ("Runs", "Runs")):
        page.locator("[data-testid='stSidebarNav']").get_by_role("link", name=link).click()
        expect(main.locator("h1")).to_have_text(heading, timeout=60000)
        assert "token" not in page.url
    screenshot(page, "sharing-with-token")
    page.reload()  # a new session without the token in the URL: the way in again, nothing else
    expect(main).to_contain_text(REFUSED, timeout=60000)
    assert dashboard.output.count(token) == 1  # printed once, in the link; the server log never has it


def test_read_only_dashboard_offers_no_way_to_change_the_store(page, read_only, seeded_store, screenshot):
    before = sorted(p.name for p in seeded_store.iterdir())
    for path, notice in (("/import_page", "Importing runs is turned off"), ("/build", "Building engines is turned off")):
        main = open_app(page, read_only + path)
        expect(main).to_contain_text(notice, timeout=60000)
        expect(main).to_contain_text("shares its run store read-only (layerlens dashboard --read-only)")
        expect(main.locator("[data-testid='stFileUploader']")).to_have_count(0)
        expect(main.locator("textarea, input")).to_have_count(0)
        expect(main.get_by_role("button")).to_have_count(0)
    expect(page.locator("[data-testid='stSidebar']")).to_contain_text("Read-only: importing, building, renaming")

    main = open_app(page, read_only + "/runs")
    expect(main).to_contain_text("Renaming, tagging and deleting runs is turned off", timeout=60000)
    main.locator("[data-testid='stMultiSelect']").click()
    page.get_by_role("option", name=re.compile(r"^resnet-qat · ")).click()
    page.keyboard.press("Escape")  # the open list hides the rest of the page from the accessibility tree
    expect(main.get_by_role("button", name=re.compile("Bundle 1 run"))).to_be_visible(timeout=60000)
    expect(main.get_by_role("button", name="Explore it")).to_be_visible()
    expect(main.get_by_role("button", name=re.compile("Delete|Save"))).to_have_count(0)
    expect(main.get_by_label("Name")).to_have_count(0)
    screenshot(page, "sharing-read-only-runs")
    assert sorted(p.name for p in seeded_store.iterdir()) == before
