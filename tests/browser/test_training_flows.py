"""Training flows in a real Chromium against the real server with the demo WACAP
programme: a trainee takes the pre-test, a trainer signs a module off, a coordinator
certifies a trainee who meets the rule, and the public page confirms the code.

Set TRAINING_SHOTS to a folder to keep screenshots of each page."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from network.services.demo import DEMO_PASSWORD

pytestmark = pytest.mark.browser

SHOTS = os.environ.get("TRAINING_SHOTS")
TRAINEE = "Kwame Trainee-Asante"
ELIGIBLE = "Ama Eligible-Owusu"
COHORT = "ToT cohort 1: BJ & BF"


def _shot(page: Page, name: str) -> None:
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SHOTS) / f"{name}.png"), full_page=True)


def _training(page: Page) -> Page:
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Training").click()
    expect(page.get_by_role("heading", name="Training", level=1)).to_be_visible()
    return page


def test_trainee_takes_the_pre_test(new_page, sign_in):
    page = _training(sign_in(new_page(), "trainee.wacap@example.org"))
    _shot(page, "training-index-trainee")
    page.get_by_role("link", name="My training").click()
    page.get_by_role("link", name="Take the pre-test").click()
    questions = page.locator("fieldset")
    expect(questions).to_have_count(14)
    _shot(page, "pre-test")
    for index in range(questions.count()):
        questions.nth(index).get_by_role("radio").first.check()
    page.get_by_role("button", name="Send my answers").click()
    expect(page.locator(".flash-success")).to_contain_text("Your score:")
    expect(page.locator('[data-score="pre"]')).to_have_text(re.compile(r"^\d+(\.\d)?%$"))
    expect(page.get_by_role("link", name="Take the post-test")).to_be_visible()
    _shot(page, "my-training")


def test_trainer_signs_off_a_module(new_page, sign_in):
    page = _training(sign_in(new_page(), "trainer.wacap@example.org"))
    page.get_by_role("link", name=COHORT).first.click()
    expect(page.get_by_role("heading", name=COHORT)).to_be_visible()
    _shot(page, "cohort-grid")
    label = f"Joint investigation teams for {TRAINEE}"
    select = page.get_by_label(label)
    expect(select).to_have_value("not_started")
    select.select_option("completed")
    select.locator("xpath=..").get_by_role("button", name="Save").click()
    # The name is isolated (FSI ... PDI) for bidirectional text.
    saved = f"Progress of \u2068{TRAINEE}\u2069 saved."
    expect(page.locator(".flash-success")).to_contain_text(saved)
    expect(page.get_by_label(label)).to_have_value("completed")
    cell = page.get_by_label(label).locator("xpath=../..")
    expect(cell).to_contain_text("Fatou Trainer-Ndiaye")

    # The trainee sees the sign-off on their own page.
    trainee = sign_in(new_page(), "trainee.wacap@example.org")
    trainee.goto("/training/mine")
    row = trainee.get_by_role("row", name=re.compile("Joint investigation teams"))
    expect(row).to_contain_text("Completed")
    expect(row).to_contain_text("Fatou Trainer-Ndiaye")


def test_coordinator_certifies_and_the_public_page_confirms_the_code(new_page, sign_in):
    page = _training(sign_in(new_page(), "coordinator.wacap@example.org"))
    page.get_by_role("link", name=re.compile("Training of trainers")).click()
    _shot(page, "programme")
    page.get_by_role("link", name=COHORT).click()
    page.get_by_role("row", name=re.compile(ELIGIBLE)).get_by_role(
        "link", name="Check and certify"
    ).click()
    expect(page.get_by_text("Meets the certification rule.")).to_be_visible()
    page.get_by_role("button", name="Certify as a trainer").click()
    expect(page.get_by_role("heading", name="Certificate of trainer")).to_be_visible()
    expect(page.locator(".certificate-name")).to_have_text(ELIGIBLE)
    code = page.locator("#verification-code").inner_text()
    assert len(code) >= 20
    _shot(page, "certificate")

    public = new_page()  # nobody signed in
    public.goto(f"/certificates/verify/{code}")
    expect(public.locator("#verify-result")).to_contain_text("valid certificate")
    expect(public.locator("#verify-name")).to_have_text(ELIGIBLE)
    expect(public.locator("#verify-programme")).to_contain_text("Training of trainers")
    _shot(public, "verify")
    public.goto("/certificates/verify/this-code-does-not-exist")
    expect(public.locator("#verify-result")).to_contain_text("No certificate has this")


def test_report_draws_charts_with_data_tables(new_page, sign_in):
    page = _training(sign_in(new_page(), "secretariat.wacap@example.org"))
    page.get_by_role("link", name=re.compile("Training of trainers")).click()
    page.get_by_role("link", name="Report", exact=True).click()
    expect(page.locator("#summary-table")).to_contain_text("333")
    expect(page.locator("canvas.js-report-chart")).to_have_count(5)
    expect(page.locator("#table-country tbody tr")).to_have_count(14)
    # The gain chart: a pair of bars (pre-test, post-test) per cohort of the table beside it.
    gain = page.evaluate(
        """() => {
            const chart = Chart.getChart(document.querySelector("canvas[data-series=gain]"));
            return {
                groups: chart.data.labels.length,
                datasets: chart.data.datasets.map((d) => d.label),
            };
        }"""
    )
    expect(page.locator("#table-gain tbody tr")).to_have_count(gain["groups"])
    assert gain["groups"] >= 2
    assert gain["datasets"] == ["Pre-test", "Post-test"]
    page.wait_for_timeout(300)
    _shot(page, "report")


def test_report_charts_read_right_to_left_in_arabic_and_fit_a_phone(new_page):
    page = new_page(width=390, height=844, locale="ar")
    page.goto("/login")
    page.locator("#email").fill("secretariat.wacap@example.org")
    page.locator("#password").fill(DEMO_PASSWORD)
    page.locator("#submit").click()
    expect(page).to_have_url(re.compile(r"^https?://[^/]+/$"))
    page.goto("/training/")
    page.locator("main a", has_text="Training of trainers").first.click()
    page.locator("main a[href$='/report']").first.click()
    expect(page.locator("html")).to_have_attribute("dir", "rtl")
    expect(page.locator("canvas.js-report-chart")).to_have_count(5)
    charts = page.evaluate(
        """() => [...document.querySelectorAll("canvas.js-report-chart")].map((canvas) => {
            const chart = Chart.getChart(canvas);
            const value = chart.options.indexAxis === "y" ? "x" : "y";
            return {
                series: canvas.dataset.series,
                locale: chart.options.locale,
                legendRtl: chart.options.plugins.legend.rtl,
                tooltipRtl: chart.options.plugins.tooltip.rtl,
                ticks: chart.scales[value] ? chart.scales[value].ticks.map((t) => t.label) : [],
            };
        })"""
    )
    for chart in charts:
        assert chart["locale"] == "ar-u-nu-latn", chart
        assert chart["legendRtl"], chart
        assert chart["tooltipRtl"], chart
        # Latin digits, as in the tables, not the browser's Arabic-Indic default for "ar".
        assert all(re.match(r"^\u200e?[0-9]", str(t)) for t in chart["ticks"]), chart
    # Nothing wider than the phone: wide tables scroll in their own boxes.
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    _shot(page, "report-ar-phone")


def test_coordinator_sees_a_modules_files_and_quiz(new_page, sign_in):
    page = _training(sign_in(new_page(), "coordinator.wacap@example.org"))
    page.get_by_role("link", name=re.compile("Training of trainers")).click()
    page.get_by_role("link", name="Extradition", exact=True).click()
    expect(page.get_by_role("heading", name="2. Extradition")).to_be_visible()
    expect(page.get_by_role("link", name="02-syllabus.txt")).to_be_visible()
    expect(page.locator("#quiz .badge-ok")).to_have_count(2)
    _shot(page, "module")
    with page.expect_download() as download:
        page.get_by_role("link", name="02-syllabus.txt").click()
    assert download.value.suggested_filename == "02-syllabus.txt"
