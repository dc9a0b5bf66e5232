"""axe-core in a journey: inject it into the page a shopper or merchant sees and fail on what would
stop a person using a screen reader, a keyboard or weak eyes (axe's serious and critical findings).

axe is vendored for the tests only, from its npm package (the shop never serves it):
``npm pack axe-core@4.11.0`` and copy ``package/axe.min.js`` to e2e/vendor/ (and its LICENSE).
"""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Frame, Page

AXE_SOURCE = Path(__file__).with_name("vendor") / "axe.min.js"
BLOCKING = ("serious", "critical")
AXE_TIMEOUT_MS = 60_000  # one page's check takes well under a second
# WCAG 2.0-2.2 A and AA, and axe's best practices (landmarks, one h1, skip links, unique names).
RULE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]


def axe_violations(page: Page) -> list[dict]:
    """axe's violations on the page as it is now, every impact, in the page and in each of its
    frames (a provider's form in an iframe, on the provider's origin, is part of what the shopper
    sees). Each frame is checked on its own: axe's own frame messaging stops at the page's origin."""
    violations = []
    for frame in page.frames:
        for violation in _violations_in(frame):
            if frame is not page.main_frame:
                violation["help"] += f" (in the frame {frame.url})"
            violations.append(violation)
    return violations


def _violations_in(frame: Frame) -> list[dict]:
    if not frame.evaluate("typeof window.axe !== 'undefined'"):
        # Evaluated through the browser's devtools, not a <script>: the pages' Content-Security-Policy
        # (script-src 'self') stays as it is in production and still applies to everything else.
        frame.evaluate(AXE_SOURCE.read_text() + "\n;undefined")
    # Bounded in the page: Playwright's evaluate waits for a promise without a timeout of its own.
    return frame.evaluate("""([tags, ms]) => Promise.race([
        axe.run(document, {runOnly: {type: 'tag', values: tags}, iframes: false}).then(result => result.violations),
        new Promise((_, reject) => setTimeout(() => reject(new Error(`axe did not finish in ${ms} ms`)), ms)),
    ])""", [RULE_TAGS, AXE_TIMEOUT_MS])


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
