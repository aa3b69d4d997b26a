"""Report pages (charts beside tables) and their CSV downloads, per webinar and per series."""

from __future__ import annotations

from flask import Blueprint, Response, render_template
from flask.typing import ResponseReturnValue
from flask_babel import get_locale

from ..models import RegistrationStatus, Series
from ..permissions import Capability, event_for, require_sign_in, series_for
from . import charts, service

bp = Blueprint("reports", __name__, url_prefix="/manage")
require_sign_in(bp)


def _locale() -> str:
    return str(get_locale() or "en")


def _managed_series(series_id: int) -> Series:
    return series_for(series_id, Capability.VIEW)


def _csv(text: str, filename: str) -> Response:
    return Response(
        text, mimetype="text/csv", headers={"Content-Disposition": f'attachment; filename="{filename}"'}
    )


def _chart_rows(rows: list[tuple[str, int]]) -> list[tuple[str, int]]:
    return rows[: service.CHART_ROWS]


@bp.route("/webinars/<int:event_id>/report")
def event_report(event_id: int) -> ResponseReturnValue:
    event = event_for(event_id, Capability.VIEW)
    report = service.event_report(event, _locale())
    return render_template(
        "reports/event.html",
        event=event,
        report=report,
        timeline=charts.line_chart(report.timeline, report.markers),
        status_chart=charts.bar_chart(
            [(status, report.statuses.get(status, 0)) for status in RegistrationStatus]
        ),
        statuses=list(RegistrationStatus),
        choice_charts=[(summary, charts.bar_chart(_chart_rows(summary.rows))) for summary in report.choices],
        percent=service.percent,
        chart_rows=service.CHART_ROWS,
    )


@bp.route("/webinars/<int:event_id>/report.csv")
def event_report_csv(event_id: int) -> ResponseReturnValue:
    event = event_for(event_id, Capability.VIEW)
    return _csv(service.event_csv(service.event_report(event, _locale())), f"{event.slug}-report.csv")


@bp.route("/series/<int:series_id>/report")
def series_report(series_id: int) -> ResponseReturnValue:
    series = _managed_series(series_id)
    report = service.series_report(series, _locale())
    trend = charts.bar_chart(
        [(row.label, row.registered) for row in report.rows],
        second=[row.attended or 0 for row in report.rows],
    )
    return render_template(
        "reports/series.html",
        series=series,
        report=report,
        trend=trend,
        choice_charts=[(summary, charts.bar_chart(_chart_rows(summary.rows))) for summary in report.choices],
        percent=service.percent,
        chart_rows=service.CHART_ROWS,
    )


@bp.route("/series/<int:series_id>/report.csv")
def series_report_csv(series_id: int) -> ResponseReturnValue:
    series = _managed_series(series_id)
    return _csv(service.series_csv(service.series_report(series, _locale())), f"{series.slug}-report.csv")
