"""The dashboard in a real headless Chromium (Debian's, driven by Playwright) over a real server and database.

Screenshots are kept in test-artifacts/ at the repository root.
"""

from __future__ import annotations

import shutil
from contextlib import contextmanager
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

import pytest

from live_server import serving
from monitor_data import utterance
from speech_emotion.monitor.simulate import simulate_day
from speech_emotion.reports import generate_daily_reports, palette, summarize_day
from speech_emotion.reports.daily import FIGURES
from speech_emotion.reports.summary import day_bounds
from speech_emotion.reports.timezones import resolve_zone
from speech_emotion.store import NewEvent, Store
from speech_emotion.web import create_app

sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"
ZONE = resolve_zone("Europe/Berlin")
ROOMS = ["room-1", "nao://room-12"]
TOKEN = "browser-test-token-0123456789"
WAIT_MS = 10_000

pytestmark = pytest.mark.skipif(
    not Path(CHROMIUM).is_file(), reason=f"no Chromium at {CHROMIUM} (apt install chromium)"
)


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    """Yesterday (a full simulated day) for two rooms, three days before it for one, and its reports."""
    root = tmp_path_factory.mktemp("browser")
    url = f"sqlite:///{root / 'monitor.db'}"
    store = Store(url)
    day = datetime.now(ZONE).date() - timedelta(days=1)
    for n, room in enumerate(ROOMS):
        simulate_day(store, day, ZONE, source_id=room, seed=n)
    for back in range(1, 4):
        simulate_day(store, day - timedelta(days=back), ZONE, source_id=ROOMS[0])
    noon = datetime.combine(day, time(12, 0), tzinfo=ZONE)
    store.add_event(NewEvent(ROOMS[1], "alert", "Sounded sad for a long time: please look in", time=noon))
    generate_daily_reports(store, day, root / "reports", tz=ZONE)
    yield url, root / "reports", store, day
    store.close()


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def expected() -> set[str]:
    """Failed requests a test provokes on purpose, as ``"<status> <url>"``."""
    return set()


@pytest.fixture
def page(browser, expected):
    """A fresh page; at the end, no script error and no failed request besides the expected ones."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="en-GB", timezone_id="UTC")
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("response", lambda r: errors.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    # leaving the page aborts its live stream: that is not a failure
    page.on(
        "requestfailed", lambda r: errors.append(f"{r.failure} {r.url}") if r.failure != "net::ERR_ABORTED" else None
    )
    yield page
    context.close()
    assert not [e for e in errors if e not in expected], errors


@contextmanager
def dashboard(page, app):
    """Serve ``app``; leave the page before the server stops, so its live stream closes cleanly."""
    with serving(app) as base:
        try:
            yield base
        finally:
            page.goto("about:blank")


def shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=ARTIFACTS / name, full_page=True)


def test_dashboard_shows_the_database_and_follows_it_live(data, page):
    url, reports, store, day = data
    app = create_app(url, reports_dir=reports, tz=ZONE, poll_interval_s=0.2, names={ROOMS[1]: "Room 12"})
    with dashboard(page, app) as base:
        page.goto(f"{base}/?date={day}")
        page.wait_for_selector("body[data-loaded=true]", timeout=WAIT_MS)
        page.wait_for_selector("#status[data-state=live]", timeout=WAIT_MS)
        assert page.locator(".card").count() == len(ROOMS)
        assert page.locator(f'.card[data-source="{ROOMS[1]}"] h3').inner_text() == "Room 12"  # serve --name
        archive = page.locator("#reports tbody tr").evaluate_all("rows => rows.map(r => r.innerText)")
        assert sorted(row.split("\t")[1] for row in archive) == ["Room 12", ROOMS[0]]
        assert page.locator("#reports tbody a[download]").count() == len(ROOMS)  # one download per report
        assert "· Room 12 · Sounded sad for a long time" in page.locator("#alerts").inner_text()
        assert page.locator("#zone").inner_text() == "times in Europe/Berlin"  # the browser is in UTC
        start, end = day_bounds(day, ZONE)
        for room in ROOMS:
            card = page.locator(f'.card[data-source="{room}"]')
            # the timeline draws every utterance that started that day
            expected_ids = {str(u.id) for u in store.utterances(since=start, until=end, source_id=room)}
            assert set(card.locator("rect.utt").evaluate_all("els => els.map(e => e.dataset.id)")) == expected_ids
            # the hourly bars carry the seconds the database gives for each hour and emotion, in its colours
            summary = summarize_day(store, room, day, ZONE)
            expected = {(k, lb): round(h.seconds[lb], 3) for k, h in enumerate(summary.hours) for lb in summary.labels}
            bars = card.locator("rect.bar").evaluate_all(
                "els => els.map(e => [+e.dataset.hour, e.dataset.label, +e.dataset.seconds, e.getAttribute('fill')])"
            )
            assert {(h, lb): s for h, lb, s, _ in bars} == {k: v for k, v in expected.items() if v > 0}
            assert all(fill == palette.colour(lb) for _, lb, _, fill in bars)
            # everything on the card is of that day: its last label, said in words, and the latest list
            of_day = store.utterances(since=start, until=end, source_id=room, limit=8, newest_first=True)
            assert card.locator(".badge").get_attribute("data-label") == of_day[0].label
            assert card.locator(".confidence").inner_text() in ("clearly", "probably", "unsure, perhaps")
            shown = card.locator(".latest li").evaluate_all("els => els.map(e => +e.dataset.id)")
            assert shown == [u.id for u in of_day]
            top = max(summary.labels, key=lambda lb: sum(h.seconds[lb] for h in summary.hours))
            assert card.locator(".balance").get_attribute("data-label") == top
            assert "last heard that day at" in card.locator(".heard").inner_text()
            assert card.locator(".monitor-state").inner_text() == "no monitor has run"  # simulated: no session
        alerts = store.events(since=start, until=end, kinds=["alert"])
        assert alerts and page.locator("#alerts li[data-id]").count() == len(alerts)
        assert page.locator("#reports tbody tr").count() == len(ROOMS)
        shot(page, "dashboard.png")

        # written by "the monitor" (another connection) today: not on the past day's page, which the live
        # stream still follows, but on today's without a reload
        now = datetime.now(UTC)
        assert store.add_utterance(utterance(ROOMS[0], now - timedelta(seconds=8), 2.0, "angry"))
        today_id = store.utterances(source_id=ROOMS[0], limit=1, newest_first=True)[0].id
        page.wait_for_timeout(1500)  # the server polls every 0.2 s
        assert page.locator(f'.latest li[data-id="{today_id}"]').count() == 0
        page.goto(f"{base}/")
        page.wait_for_selector("body[data-loaded=true]", timeout=WAIT_MS)
        page.wait_for_selector("#status[data-state=live]", timeout=WAIT_MS)
        page.locator(f'.card[data-source="{ROOMS[0]}"] .latest li[data-id="{today_id}"]').wait_for(timeout=WAIT_MS)
        session = store.start_session(ROOMS[1], "model@1")  # a monitor starts: its state is the store's
        assert store.add_utterance(utterance(ROOMS[1], now - timedelta(seconds=4), 3.5, "sad"))
        new_id = store.utterances(source_id=ROOMS[1], limit=1, newest_first=True)[0].id
        card = page.locator(f'.card[data-source="{ROOMS[1]}"]')
        card.locator(f'.latest li[data-id="{new_id}"]').wait_for(timeout=WAIT_MS)
        assert card.locator(".badge").get_attribute("data-label") == "sad"
        card.locator(".monitor-state[data-state=listening]").wait_for(timeout=WAIT_MS)
        store.add_event(NewEvent(ROOMS[1], "disconnected", "robot gone", time=datetime.now(UTC), session_id=session))
        card.locator(".monitor-state[data-state=disconnected]").wait_for(timeout=WAIT_MS)
        assert card.locator(".monitor-state").inner_text().startswith("robot disconnected since ")
        store.end_session(session)
        store.add_event(NewEvent(ROOMS[1], "metrics", "monitor stopped", session_id=session))
        card.locator(".monitor-state[data-state=stopped]").wait_for(timeout=WAIT_MS)
        assert store.add_utterance(utterance("nao://visitor-room", now - timedelta(seconds=2), 2.0, "happy"))
        page.locator('.card[data-source="nao://visitor-room"] .badge[data-label=happy]').wait_for(timeout=WAIT_MS)
        assert page.evaluate("performance.getEntriesByType('navigation').length") == 1  # never reloaded
        shot(page, "dashboard-live.png")


def test_report_renders_with_its_embedded_figures(data, page):
    url, reports, _, day = data
    with dashboard(page, create_app(url, reports_dir=reports, tz=ZONE)) as base:
        html = next(reports.glob(f"{day}/room-1/report.html"))
        for address in (html.as_uri(), f"{base}/reports/{day}/room-1/report.html"):  # as a file, and as served
            page.goto(address)
            sizes = page.locator("img").evaluate_all("imgs => imgs.map(i => [i.complete, i.naturalWidth])")
            assert len(sizes) == len(FIGURES) and all(done and width > 800 for done, width in sizes), sizes
        assert "Daily emotion report: room-1" in page.locator("h1").inner_text()
        shot(page, "report.png")


def test_token_is_required_in_the_browser(data, page, expected):
    url, reports, store, day = data
    with dashboard(page, create_app(url, reports_dir=reports, token=TOKEN, tz=ZONE, poll_interval_s=0.2)) as base:
        expected.update({f"401 {base}/", f"401 {base}/favicon.ico"})
        refused = page.goto(f"{base}/")
        assert refused.status == 401 and "token is required" in page.content()
        allowed = page.goto(f"{base}/?token={TOKEN}&date={day}")
        assert allowed.status == 200
        page.wait_for_selector("body[data-loaded=true]", timeout=WAIT_MS)
        page.wait_for_selector("#status[data-state=live]", timeout=WAIT_MS)  # the stream got in with the cookie
        assert page.locator(".card").count() == len(store.sources())
        assert "token=" not in page.url  # moved into an HttpOnly cookie, out of the address bar
        assert page.evaluate("document.cookie") == ""
        shot(page, "dashboard-token.png")


def test_a_phone_sees_the_whole_page_and_a_lone_card_keeps_its_text_size(data, browser):
    url, reports, _, day = data
    for width, source in ((400, None), (2200, ROOMS[0])):
        context = browser.new_context(viewport={"width": width, "height": 900}, locale="en-GB", timezone_id="UTC")
        page = context.new_page()
        try:
            with dashboard(page, create_app(url, reports_dir=reports, tz=ZONE)) as base:
                page.goto(f"{base}/?date={day}")
                page.wait_for_selector("body[data-loaded=true]", timeout=WAIT_MS)
                if source is None:  # no horizontal scrolling on a phone
                    assert page.evaluate("document.documentElement.scrollWidth") <= width
                    shot(page, "dashboard-phone.png")
                else:  # wide cards: the chart text stays near its own size, not doubled
                    sizes = page.locator("svg.hourly-chart text").evaluate_all(
                        "els => els.map(e => e.getBoundingClientRect().height)"
                    )
                    assert sizes and max(sizes) < 17, sizes  # 11 px text in a 560 px wide drawing
        finally:
            context.close()
