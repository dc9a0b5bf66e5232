"""A sequence diagram of an order's provider calls, drawn on the server as SVG."""

from __future__ import annotations

from html import escape

from markupsafe import Markup

ROW = 30
WIDTH = 640
SHOP_X, PROVIDER_X = 150, 500
# Widest text that fits, in characters (system-ui at the font size used: about 0.6 em a character).
CALL_CHARS = 80  # 11 px, centred between the lifelines, may reach past them to the diagram's edges
NOTE_CHARS = 76  # 10 px, in a note over both lifelines
ACTOR_CHARS = 30  # 13 px


def sequence_svg(events, payments, plugins) -> Markup:
    """Shop and provider lifelines; calls out, callbacks in, and state changes as notes."""
    names = {p.id: (plugins.get(p.plugin).name if plugins.get(p.plugin) else p.plugin) for p in payments}
    provider = " / ".join(dict.fromkeys(names.values())) or "provider"
    shown = [e for e in events if e.kind in ("call", "callback", "transition", "refund")]
    height = 70 + ROW * len(shown)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" class="sequence" role="img" '
        f'aria-label="Sequence of provider calls">',
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" '
        'orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#333"/></marker></defs>',
        _actor(SHOP_X, "Shop"), _actor(PROVIDER_X, provider),
        f'<line x1="{SHOP_X}" y1="40" x2="{SHOP_X}" y2="{height}" stroke="#999" stroke-dasharray="4 4"/>',
        f'<line x1="{PROVIDER_X}" y1="40" x2="{PROVIDER_X}" y2="{height}" stroke="#999" stroke-dasharray="4 4"/>',
    ]
    for index, event in enumerate(shown):
        y = 62 + index * ROW
        label = event.operation + (f" → {event.http_status}" if event.http_status else "")
        if event.kind in ("call", "callback"):
            start, end = (SHOP_X, PROVIDER_X) if event.direction == "out" else (PROVIDER_X, SHOP_X)
            bad = event.http_status is not None and event.http_status >= 400
            colour = "#b42318" if bad else "#333"
            parts.append(f'<line x1="{start}" y1="{y}" x2="{end}" y2="{y}" stroke="{colour}" '
                         f'marker-end="url(#arrow)"/>')
            parts.append(f'<text x="{(SHOP_X + PROVIDER_X) / 2}" y="{y - 5}" text-anchor="middle" '
                         f'font-size="11" fill="{colour}">{_fitted(label, CALL_CHARS)}</text>')
        else:  # a state change: a note over both lifelines, wide enough for its whole text
            left, right = SHOP_X - 120, PROVIDER_X + 120
            parts.append(f'<rect x="{left}" y="{y - 13}" width="{right - left}" height="18" rx="3" fill="#fff4cc" '
                         f'stroke="#d4b106"/><text x="{(left + right) / 2}" y="{y}" text-anchor="middle" '
                         f'font-size="10">{_fitted(label, NOTE_CHARS)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def _fitted(text: str, chars: int) -> str:
    """The text, escaped; one too long for its place is shortened with an ellipsis and keeps its
    whole wording in a <title> (a tooltip, and what a screen reader reads)."""
    if len(text) <= chars:
        return escape(text)
    return f"<title>{escape(text)}</title>{escape(text[:chars - 1])}…"


def _actor(x: int, name: str) -> str:
    width = max(140, min(len(name), ACTOR_CHARS) * 8 + 20)
    return (f'<rect x="{x - width / 2}" y="8" width="{width}" height="28" rx="4" fill="#eef2ff" stroke="#4f46e5"/>'
            f'<text x="{x}" y="27" text-anchor="middle" font-size="13">{_fitted(name, ACTOR_CHARS)}</text>')
