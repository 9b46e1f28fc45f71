"""The dashboard in headless Chromium: seeds a ledger with known traffic (live requests today,
rows for the six days before written into the ledger as another replica would have), signs in
through the form, and checks that the figures on the page (read from the DOM) equal what
`tollgate report` prints for the same period. Saves screenshots for people to look at."""

import argparse
import json
import os
import sqlite3
import subprocess
import sys
import time
import urllib.request
from datetime import datetime, timedelta, timezone
from decimal import Decimal

from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

failures = []


def check(condition, message):
    print(("ok   " if condition else "FAIL ") + message)
    if not condition:
        failures.append(message)


def http(url, method="GET", body=None, headers=None):
    request = urllib.request.Request(url, method=method, data=None if body is None else json.dumps(body).encode(), headers=headers or {})
    if body is not None:
        request.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read() or b"null")


def wait_for(driver, selector, present=True):
    """Waits (a navigation may still be loading) until `selector` is on the page, or is not."""
    try:
        WebDriverWait(driver, 20).until(lambda d: (d.find_elements(By.CSS_SELECTOR, selector) != []) == present)
        return True
    except Exception:
        return False


def report(args, by, first, last, fmt="json"):
    output = subprocess.run(
        [args.tollgate, "report", "--config", args.config, "--by", by, "--from", first, "--to", last, "--format", fmt],
        check=True, capture_output=True, text=True,
    ).stdout
    return json.loads(output, parse_float=Decimal) if fmt == "json" else output


def table_total(args, first, last):
    """The TOTAL row of `tollgate report --by day`: requests, cache hits, cost."""
    for line in report(args, "day", first, last, "table").splitlines():
        parts = line.split()
        if parts and parts[0] == "TOTAL":
            return int(parts[1]), int(parts[3]), Decimal(parts[7])
    raise AssertionError("no TOTAL row")


def seed(args, admin):
    keys = {}
    for name, team in [("research-bot", "research"), ("growth-app", "growth"), ("support-desk", "support")]:
        keys[team] = http(args.url + "/admin/keys", "POST", {"name": name, "team": team}, admin)
    live = [
        ("research", "gpt-4o", "ana"), ("research", "gpt-4o", "ana"), ("research", "gpt-5", "ben"),
        ("growth", "gpt-4o-mini", "cleo"), ("growth", "gpt-4o-mini", "dev"), ("growth", "gpt-5-mini", "cleo"),
        ("support", "claude-haiku-4-5", "eve"), ("support", "gpt-4o-mini", "eve"),
    ]
    for index, (team, model, user) in enumerate(live):
        body = {"model": model, "user": user, "messages": [{"role": "user", "content": f"question {index} about invoices"}]}
        http(args.url + "/v1/chat/completions", "POST", body, {"Authorization": "Bearer " + keys[team]["secret"]})
    # One exact repeat: a cache hit.
    body = {"model": "gpt-4o-mini", "user": "cleo", "messages": [{"role": "user", "content": "question 3 about invoices"}]}
    http(args.url + "/v1/chat/completions", "POST", body, {"Authorization": "Bearer " + keys["growth"]["secret"]})
    live_count = len(live) + 1

    # The six days before, and today's spend of another replica (which puts research over budget).
    now = datetime.now(timezone.utc)
    rows = []
    for back in range(0, 7):
        day = (now - timedelta(days=back)).replace(hour=1 if back == 0 else 12, minute=0, second=0, microsecond=0)
        if back == 0 and day > now:
            day = now - timedelta(seconds=5)
        for slot, (team, model, user, nanos) in enumerate([
            ("growth", "gpt-4o-mini", "cleo", 1_250_000 * (back + 1)), ("research", "gpt-5", "ana", 90_000_000 + back * 7_000_000),
            ("support", "claude-haiku-4-5", "eve", 3_300_000), ("research", "gpt-4o", "ben", 40_000_000 * (back % 3)),
        ]):
            if back == 0 and team != "research":
                continue
            rows.append((int(day.timestamp() * 1000) + slot, f"seed-{back}-{slot}", keys[team]["id"], team, user, "default", model, model,
                         "anthropic" if model.startswith("claude") else "openai", 1200, 300, nanos * (8 if back == 0 else 1), 200, 640 + slot * 90))
    connection = sqlite3.connect(args.ledger, timeout=30)
    connection.executemany(
        "INSERT INTO ledger_entry (time_ms, request_id, key_id, team, user, route, requested_model, served_model, provider,"
        " input_tokens, output_tokens, cost_nanos, http_status, latency_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
    connection.commit()
    connection.close()
    return live_count + len(rows)


def main():
    parser = argparse.ArgumentParser()
    for name in ["--url", "--admin-key", "--tollgate", "--config", "--ledger", "--screenshots"]:
        parser.add_argument(name, required=True)
    args = parser.parse_args()
    admin = {"Authorization": "Bearer " + args.admin_key}
    expected_rows = seed(args, admin)
    today = datetime.now(timezone.utc).date()
    week_start = (today - timedelta(days=6)).isoformat()
    month_start = (today - timedelta(days=29)).isoformat()
    # Rows are written off the request path: wait until every one is in the ledger.
    deadline = time.time() + 60
    while table_total(args, month_start, today.isoformat())[0] < expected_rows and time.time() < deadline:
        time.sleep(0.2)
    check(table_total(args, month_start, today.isoformat())[0] == expected_rows, f"the ledger holds all {expected_rows} rows")

    options = Options()
    for flag in ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1440,900"]:
        options.add_argument(flag)
    options.binary_location = os.environ.get("CHROMIUM", "/usr/bin/chromium")
    driver = webdriver.Chrome(service=Service(os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver")), options=options)
    try:
        driver.get(args.url + "/dashboard")
        check(driver.find_elements(By.CSS_SELECTOR, "form[action='/dashboard/sign-in']") != [], "without a session: the sign-in form")
        driver.find_element(By.ID, "key").send_keys("not-the-key")
        driver.find_element(By.CSS_SELECTOR, "form button").click()
        check(wait_for(driver, "p.error"), "a wrong key is refused")
        driver.find_element(By.ID, "key").send_keys(args.admin_key)
        driver.find_element(By.CSS_SELECTOR, "form button").click()
        check(wait_for(driver, "[data-figure='period-cost']"), "the right key opens the dashboard")
        check(args.admin_key not in driver.current_url and args.admin_key not in driver.page_source, "the key is in no URL and no page")
        cookies = {cookie["name"]: cookie for cookie in driver.get_cookies()}
        session = cookies.get("tollgate_session", {})
        check(session.get("httpOnly") is True and session.get("sameSite") == "Strict", "the session cookie is HttpOnly and SameSite=Strict")

        def figure(name):
            return driver.find_element(By.CSS_SELECTOR, f"[data-figure='{name}']")

        # Seven days (the default period).
        requests, hits, cost = table_total(args, week_start, today.isoformat())
        check(Decimal(figure("period-cost").get_attribute("data-usd")) == cost, f"7-day spend is the report's total ({cost})")
        check(int(figure("requests").text.replace(",", "")) == requests, f"7-day requests are the report's ({requests})")
        check(figure("cache-hit-rate").text == f"{hits / requests * 100:.1f}%", "the cache hit rate is the report's")
        _, _, today_cost = table_total(args, today.isoformat(), today.isoformat())
        check(Decimal(figure("today-cost").get_attribute("data-usd")) == today_cost, f"today's spend is the report's ({today_cost})")
        for row in report(args, "day", week_start, today.isoformat()):
            bar = driver.find_elements(By.CSS_SELECTOR, f"g.bar[data-day='{row['day']}']")
            check(bar != [] and Decimal(bar[0].get_attribute("data-usd")) == row["cost_usd"], f"the bar of {row['day']} is {row['cost_usd']}")
        for row in report(args, "team", week_start, today.isoformat()):
            cell = driver.find_elements(By.CSS_SELECTOR, f"tr[data-team='{row['team']}'] .usd")
            check(cell != [] and Decimal(cell[0].get_attribute("data-usd")) == row["cost_usd"], f"team {row['team']} spent {row['cost_usd']}")
        for row in report(args, "user", week_start, today.isoformat())[:10]:
            cell = driver.find_elements(By.CSS_SELECTOR, f"tr[data-user='{row['user']}'] .usd")
            check(cell != [] and Decimal(cell[0].get_attribute("data-usd")) == row["cost_usd"], f"user {row['user']} spent {row['cost_usd']}")
        spend = http(args.url + "/admin/spend", headers=admin)
        research = next(team for team in spend["teams"] if team["id"] == "research")
        alert = driver.find_elements(By.CSS_SELECTOR, "p.over[data-alert='team:research']")
        check(alert != [] and alert[0].is_displayed() and alert[0].location["y"] < 200, "research's overspend is the first thing on the page")
        budget = driver.find_element(By.CSS_SELECTOR, "tr[data-budget='team:research']")
        check(abs(float(budget.get_attribute("data-used-pct")) - research["used_pct"]) < 1e-9 and research["used_pct"] > 100,
              f"research's budget row says {research['used_pct']}% used")
        driver.save_screenshot(os.path.join(args.screenshots, "dashboard-7d.png"))
        height = driver.execute_script("return document.documentElement.scrollHeight")
        driver.set_window_size(1440, max(900, height))
        driver.save_screenshot(os.path.join(args.screenshots, "dashboard-7d-full.png"))
        driver.set_window_size(1440, 900)

        # Thirty days, stacked by model.
        driver.find_element(By.LINK_TEXT, "30 days").click()
        wait_for(driver, "nav.periods strong")
        WebDriverWait(driver, 20).until(lambda d: "period=30d" in d.current_url)
        driver.find_element(By.LINK_TEXT, "model").click()
        WebDriverWait(driver, 20).until(lambda d: "stack=model" in d.current_url)
        _, _, cost = table_total(args, month_start, today.isoformat())
        check(Decimal(figure("period-cost").get_attribute("data-usd")) == cost, f"30-day spend is the report's total ({cost})")
        check("stack=model" in driver.current_url and "period=30d" in driver.current_url, "the picker keeps period and stack")
        check(len(driver.find_elements(By.CSS_SELECTOR, "g.bar")) == 30, "thirty bars")
        driver.save_screenshot(os.path.join(args.screenshots, "dashboard-30d-by-model.png"))

        driver.find_element(By.CSS_SELECTOR, "header form button").click()
        check(wait_for(driver, "form[action='/dashboard/sign-in']"), "signing out shows the form again")
        driver.get(args.url + "/dashboard")
        check(driver.find_elements(By.CSS_SELECTOR, "[data-figure]") == [], "and the session is gone")
    finally:
        driver.quit()
    print(f"{len(failures)} failed; screenshots in {args.screenshots}")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
