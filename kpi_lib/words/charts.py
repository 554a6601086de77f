"""Charts for the notebooks: one per indicator that helps read it, rendered to PNG with a CJK font.

Every word on a chart (title, axis, category) is in the department's language: outcome
codes become words through `explain.outcome_text`, a deadline through `explain.sla_text`.

The font is Noto Sans CJK SC as shipped by the `mplfonts` package (installed with
the toolkit, nothing to set up by hand). It is registered with matplotlib's font
manager and used inside `rc_context`, and figures are built with the object API
(`Figure`, not pyplot) and rendered to PNG bytes inside that context, so no
global matplotlib state changes in the notebook that draws them.

A chart is a handful of flat colours plus their antialiased edges, so it is stored as
a palette PNG (`png`): quantized by Pillow to at most `PALETTE_COLOURS` colours without
dithering, a quarter of matplotlib's RGBA bytes, and the same picture to the eye. The
notebooks and both reports of every notebook embed each chart, so this counts 3 times.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from decimal import Decimal
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..base.messages import say
from ..scoring.appraisal import IndicatorResult
from .explain import outcome_text, sla_text

if TYPE_CHECKING:
    from matplotlib.figure import Figure

# matplotlib and Pillow are imported by the functions that draw (a kernel's zygote has them imported
# already): the commands that only need the font's path (`cjk_font_path`: every report page) start
# without them.

CJK_FONT_FILE = "NotoSansCJKsc-Regular.otf"
CJK_FONT_NAME = "Noto Sans CJK SC"


@lru_cache(maxsize=1)
def cjk_font_path() -> Path | None:
    """The bundled CJK font file, or None when mplfonts is missing (charts then fall back to DejaVu)."""
    try:
        path = Path(str(resources.files("mplfonts") / "fonts" / CJK_FONT_FILE))
    except ModuleNotFoundError:
        return None
    return path if path.is_file() else None


@lru_cache(maxsize=1)
def _register() -> str:
    path = cjk_font_path()
    if path is None:
        return "DejaVu Sans"
    from matplotlib import font_manager

    font_manager.fontManager.addfont(str(path))
    return CJK_FONT_NAME


@contextmanager
def cjk() -> Iterator[None]:
    import matplotlib

    family = _register()
    with matplotlib.rc_context(
        {"font.family": "sans-serif", "font.sans-serif": [family, "DejaVu Sans"], "axes.unicode_minus": False}
    ):
        yield


PALETTE_COLOURS = 64
DPI = 110


def png(fig: Figure) -> bytes:
    """The figure as an 8-bit palette PNG (white background, no metadata: the same figure gives the same bytes)."""
    from PIL import Image

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI, bbox_inches="tight", facecolor="white")
    buffer.seek(0)
    with Image.open(buffer) as image:
        palette = image.convert("RGB").quantize(
            colors=PALETTE_COLOURS, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE
        )
    out = io.BytesIO()
    palette.save(out, format="PNG", optimize=True)
    return out.getvalue()


def _figure(width: float = 7.0, height: float = 3.2) -> tuple[Figure, Any]:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height))
    ax = fig.add_subplot(1, 1, 1)
    ax.spines[["top", "right"]].set_visible(False)
    return fig, ax


def histogram(values: Sequence[float], deadline: float | None, title: str, xlabel: str, deadline_label: str) -> bytes:
    """Reply times against the deadline."""
    with cjk():
        fig, ax = _figure()
        if len(values):
            ax.hist(values, bins=40, color="#4C78A8")
        if deadline is not None:
            ax.axvline(deadline, color="#E45756", linestyle="--", label=deadline_label)
            ax.legend()
        ax.set_title(title)
        ax.set_xlabel(xlabel)
        return png(fig)


def bars(
    labels: Sequence[str],
    values: Sequence[float],
    title: str,
    ylabel: str = "",
    highlight: Sequence[bool] | None = None,
) -> bytes:
    with cjk():
        fig, ax = _figure()
        colours = ["#E45756" if h else "#4C78A8" for h in (highlight or [False] * len(values))]
        ax.bar(list(labels), list(values), color=colours)
        from matplotlib.ticker import MaxNLocator

        ax.yaxis.set_major_locator(MaxNLocator(integer=True))  # counts and amounts: no 0.5 steps on the axis
        for x, v in enumerate(values):
            ax.annotate(f"{v:g}", (x, v), ha="center", va="bottom", fontsize=9)
        ax.set_title(title)
        ax.set_ylabel(ylabel)
        return png(fig)


def hbars(labels: Sequence[str], values: Sequence[float], title: str, xlabel: str) -> bytes:
    """Horizontal bars in the given order, top down (points lost per indicator: red lost, green gained)."""
    with cjk():
        fig, ax = _figure(7.0, max(2.5, 0.38 * len(values) + 1))
        ax.barh(
            list(labels)[::-1],
            list(values)[::-1],
            color=["#E45756" if v > 0 else "#54A24B" for v in list(values)[::-1]],
        )
        for y, v in enumerate(list(values)[::-1]):
            ax.annotate(
                f"{v:.2f}", (v, y), ha="left", va="center", fontsize=9, xytext=(3, 0), textcoords="offset points"
            )
        ax.set_title(title)
        ax.set_xlabel(xlabel)
        return png(fig)


def line(labels: Sequence[str], values: Sequence[float], title: str, ylabel: str) -> bytes:
    """A small line chart of values in the given order (a department's weighted total by period), each point labelled."""
    with cjk():
        fig, ax = _figure(3.5, 2.4)  # about 390 px: whole on a phone at its own size
        ax.plot(list(labels), list(values), color="#4C78A8", marker="o")
        for x, v in enumerate(values):
            ax.annotate(
                f"{v:.2f}", (x, v), ha="center", va="bottom", fontsize=8, xytext=(0, 4), textcoords="offset points"
            )
        low, high = min(values), max(values)
        pad = max(2.0, (high - low) * 0.25)
        ax.set_ylim(low - pad, high + pad)
        ax.set_title(title, fontsize=10)
        ax.set_ylabel(ylabel, fontsize=9)
        ax.tick_params(labelsize=8)
        return png(fig)


def as_float(value: Decimal | float | int | None) -> float:
    return 0.0 if value is None else float(value)


# Outcomes that count for the indicator (green); any other outcome of a rate is shown red.
GOOD_OUTCOMES = frozenset({"on time", "finished", "satisfied", "complete", "done", "kept", "counted", "observed"})


# -- one chart per rate kind -----------------------------------------------------------------
def _chart_on_time(r: IndicatorResult, lang: str) -> bytes:
    rows = r.evidence.rows
    hours = rows["hours_taken"].dropna().astype(float)
    sla = str(r.evidence.facts.get("sla", ""))
    deadline = float(sla[:-1]) if sla.endswith("h") and not sla.endswith("wd") else None
    cap = max(float(hours.quantile(0.99)) if len(hours) else 0.0, deadline or 0.0) * 1.1 or 1.0
    title = say("chart.time_to_answer", lang, id=r.id, sla=sla_text(sla, lang))
    return histogram(
        hours.clip(upper=cap).tolist(), deadline, title, say("chart.hours", lang), say("chart.deadline", lang)
    )


def _chart_scores(r: IndicatorResult, lang: str) -> bytes:
    scores = r.evidence.rows["score"].map(float)
    counts = [int((scores == s).sum()) for s in (1, 2, 3, 4, 5)]
    threshold = float(r.evidence.facts.get("satisfied_min_score", 4))
    title = say("chart.score_distribution", lang, id=r.id, threshold=f"{threshold:g}")
    return bars(
        ["1", "2", "3", "4", "5"], counts, title, say("chart.rows", lang), [s < threshold for s in (1, 2, 3, 4, 5)]
    )


def _chart_outcomes(r: IndicatorResult, lang: str) -> bytes:
    counts = r.evidence.rows["outcome"].value_counts().sort_index()
    title = say("chart.outcome_rows", lang, id=r.id, name=r.indicator.name(lang))
    return bars(
        [outcome_text(k, lang) for k in counts.index],
        [int(v) for v in counts.values],
        title,
        say("chart.rows", lang),
        [k not in GOOD_OUTCOMES for k in counts.index],
    )


def _chart_quantities(r: IndicatorResult, lang: str) -> bytes:
    labels = [say("chart.planned", lang), say("chart.actual", lang)]
    return bars(
        labels,
        [as_float(r.evidence.denominator), as_float(r.evidence.numerator)],
        f"{r.id} {r.indicator.name(lang)}",
    )


def _chart_budget(r: IndicatorResult, lang: str) -> bytes:
    f = r.evidence.facts
    labels = [say("chart.budget", lang), say("chart.counted", lang), say("chart.approved", lang)]
    values = [as_float(f.get("budget")), as_float(f.get("spent")), as_float(f.get("approved"))]
    return bars(labels, values, f"{r.id} {r.indicator.name(lang)}", "", [False, values[1] > values[0], False])


CHARTS: dict[str, Callable[[IndicatorResult, str], bytes]] = {
    "on_time": _chart_on_time,
    "score_share": _chart_scores,
    "quantity_ratio": _chart_quantities,
    "overrun": _chart_budget,
    "unfinished_items": _chart_outcomes,
    "distinct_done": _chart_outcomes,
    "flag_share": _chart_outcomes,
    "lost_share": _chart_outcomes,
}


def chart_of(result: IndicatorResult, lang: str) -> bytes | None:
    """The chart that helps read one indicator (by its rate kind), or None when it has none or no rows."""
    kind = "observation" if result.method == "observation" else result.indicator.rate.kind
    chart = CHARTS.get(kind)
    if chart is None or result.evidence.rows is None or not len(result.evidence.rows):
        return None
    return chart(result, lang) or None
