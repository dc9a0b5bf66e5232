"""A sequence diagram of an order's provider calls, drawn on the server as SVG."""

from __future__ import annotations

from html import escape

from markupsafe import Markup

ROW = 30
WIDTH = 640
SHOP_X, PROVIDER_X = 150, 500


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
        label = escape(event.operation[:60]) + (f" → {event.http_status}" if event.http_status else "")
        if event.kind in ("call", "callback"):
            start, end = (SHOP_X, PROVIDER_X) if event.direction == "out" else (PROVIDER_X, SHOP_X)
            bad = event.http_status is not None and event.http_status >= 400
            colour = "#b42318" if bad else "#333"
            parts.append(f'<line x1="{start}" y1="{y}" x2="{end}" y2="{y}" stroke="{colour}" '
                         f'marker-end="url(#arrow)"/>')
            parts.append(f'<text x="{(SHOP_X + PROVIDER_X) / 2}" y="{y - 5}" text-anchor="middle" '
                         f'font-size="11" fill="{colour}">{label}</text>')
        else:
            parts.append(f'<rect x="{SHOP_X - 140}" y="{y - 13}" width="130" height="18" rx="3" fill="#fff4cc" '
                         f'stroke="#d4b106"/><text x="{SHOP_X - 75}" y="{y}" text-anchor="middle" '
                         f'font-size="10">{label[:26]}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def _actor(x: int, name: str) -> str:
    return (f'<rect x="{x - 70}" y="8" width="140" height="28" rx="4" fill="#eef2ff" stroke="#4f46e5"/>'
            f'<text x="{x}" y="27" text-anchor="middle" font-size="13">{escape(name[:20])}</text>')
