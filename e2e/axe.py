"""axe-core in a journey: inject it into the page a shopper or merchant sees and fail on what would
stop a person using a screen reader, a keyboard or weak eyes (axe's serious and critical findings).

axe is vendored for the tests only, from its npm package (the shop never serves it):
``npm pack axe-core@4.11.0`` and copy ``package/axe.min.js`` to e2e/vendor/ (and its LICENSE).
"""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Page

AXE_SOURCE = Path(__file__).with_name("vendor") / "axe.min.js"
BLOCKING = ("serious", "critical")
# WCAG 2.0-2.2 A and AA, and axe's best practices (landmarks, one h1, skip links, unique names).
RULE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]


def axe_violations(page: Page) -> list[dict]:
    """axe's violations on the page as it is now, every impact."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        # Evaluated through the browser's devtools, not a <script>: the pages' Content-Security-Policy
        # (script-src 'self') stays as it is in production and still applies to everything else.
        page.evaluate(AXE_SOURCE.read_text() + "\n;undefined")
    return page.evaluate("tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})"
                         ".then(result => result.violations)", RULE_TAGS)


def describe(violations: list[dict]) -> str:
    """One paragraph per violation: the rule, why it matters, and the elements it names."""
    parts = []
    for violation in violations:
        targets = [" ".join(map(str, node["target"])) for node in violation["nodes"][:5]]
        summary = violation["nodes"][0].get("failureSummary", "").replace("\n", " ")
        parts.append(f"[{violation['impact']}] {violation['id']}: {violation['help']}\n"
                     f"    on {', '.join(targets)}\n    {summary}")
    return "\n".join(parts)


def assert_accessible(page: Page, where: str = "") -> None:
    """Fail, listing them, when axe finds serious or critical violations on the page."""
    blocking = [v for v in axe_violations(page) if v["impact"] in BLOCKING]
    assert not blocking, f"axe on {where or page.url}:\n{describe(blocking)}"
