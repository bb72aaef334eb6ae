"""Request logs: a filterable, bookmarkable table, row details, charts and exports."""

import math
import zlib
from datetime import UTC, datetime, timedelta

import altair as alt
import pandas as pd
import streamlit as st

from gateway import ui
from gateway.client import ClientError

PAGE_SIZE = 50
ANY = "Any"
RANGES = {
    "1h": ("Last hour", timedelta(hours=1), "hour"),
    "24h": ("Last 24 hours", timedelta(days=1), "hour"),
    "7d": ("Last 7 days", timedelta(days=7), "day"),
    "30d": ("Last 30 days", timedelta(days=30), "day"),
    "all": ("All time", None, "day"),
}
STATUSES = [
    ANY,
    "ok",
    "error",
    "400",
    "401",
    "403",
    "404",
    "413",
    "429",
    "500",
    "502",
    "504",
]
SOURCES = [ANY, "api", "playground"]
# Widget key, query parameter and default of each filter. The query parameters
# make a filtered view bookmarkable.
FILTERS = {
    "logs_range": ("range", "24h"),
    "logs_key": ("key", None),
    "logs_endpoint": ("endpoint", None),
    "logs_model": ("model", ""),
    "logs_status": ("status", ANY),
    "logs_source": ("source", ANY),
}
EXPORT_TYPES = {"csv": "text/csv", "parquet": "application/vnd.apache.parquet"}
# The analytics routes need a start, so "All time" starts before any gateway logged.
EPOCH = datetime(2000, 1, 1, tzinfo=UTC)


def show_detail(row: dict) -> None:
    """Show one log row: status, timings, tokens, cost, route, error and guardrails."""
    with st.container(border=True):
        when = pd.Timestamp(row["ts"]).strftime("%Y-%m-%d %H:%M:%S UTC")
        st.markdown(f"**Request `{row['request_id']}`** · {when}")
        prompt, completion = row["prompt_tokens"], row["completion_tokens"]
        cells = st.columns(5)
        cells[0].metric("Status", row["status"])
        cells[1].metric("Latency", ui.milliseconds(row["latency_ms"]))
        cells[2].metric("Upstream", ui.milliseconds(row["upstream_ms"]))
        cells[3].metric(
            "Tokens",
            ui.number(prompt + completion),
            help=f"{prompt} prompt, {completion} completion",
        )
        cells[4].metric("Cost", f"${row['cost_usd']:.6f}")

        route = [
            f"key `{row['key_prefix'] or 'none'}`",
            f"endpoint `{row['endpoint'] or '–'}`",
            f"model `{row['model'] or '–'}` via `{row['provider'] or '–'}`",
            f"source `{row['source']}`",
            "streamed" if row["stream"] else "not streamed",
        ]
        st.markdown(" · ".join(route))
        if row["error_code"]:
            st.error(f"Error code `{row['error_code']}`", icon=":material/error:")
        actions = row["guardrail_actions"] or []
        if actions:
            st.markdown("Guardrail actions: " + ui.chips(actions, "orange"))
        else:
            st.caption("No guardrail acted on this request.")

        for field, label in (
            ("request_body", "Request body"),
            ("response_body", "Response"),
        ):
            if row.get(field):
                with st.expander(label):
                    st.code(row[field], language="json", wrap_lines=True)


def latency_chart(series: pd.DataFrame) -> alt.Chart:
    """Build a chart of p50 and p95 latency per bucket, with a point on each bucket."""
    frame = series.rename(columns={"latency_p50_ms": "p50", "latency_p95_ms": "p95"})
    frame = frame.melt(
        id_vars="bucket", value_vars=["p50", "p95"], var_name="percentile"
    )
    return (
        alt.Chart(frame)
        .mark_line(point=True)
        .encode(
            x=alt.X("bucket:T", title=None),
            y=alt.Y("value:Q", title="ms"),
            color=alt.Color("percentile:N", title=None),
            tooltip=["bucket:T", "percentile:N", alt.Tooltip("value:Q", format=",.0f")],
        )
    )


def error_rate_chart(series: pd.DataFrame) -> alt.Chart:
    """Build a chart of the percentage of requests that failed, per bucket."""
    frame = series.assign(
        rate=series["errors"] / series["requests"].clip(lower=1) * 100
    )
    return (
        alt.Chart(frame)
        .mark_line(point=True, color="#d93025")
        .encode(
            x=alt.X("bucket:T", title=None),
            y=alt.Y("rate:Q", title="% of requests", scale=alt.Scale(domainMin=0)),
            tooltip=[
                "bucket:T",
                "requests:Q",
                "errors:Q",
                alt.Tooltip("rate:Q", format=".1f"),
            ],
        )
    )


client = ui.setup_page("Logs", ":material/receipt_long:")

if "logs_range" not in st.session_state:
    for state_key, (param, default) in FILTERS.items():
        st.session_state[state_key] = st.query_params.get(param, default)
    if st.session_state.logs_range not in RANGES:
        st.session_state.logs_range = "24h"
    if st.session_state.logs_status not in STATUSES:
        st.session_state.logs_status = ANY
    if st.session_state.logs_source not in SOURCES:
        st.session_state.logs_source = ANY
    page_param = st.query_params.get("page", "1")
    st.session_state.logs_start_page = int(page_param) if page_param.isdigit() else 1
    st.session_state.logs_request = st.query_params.get("request")
    st.session_state.logs_export = None
    st.session_state.logs_filters = None

st.title("Logs")
if st.query_params.get("action") == "view":
    st.info("Ready: filter the requests below and select a row for its details.")

try:
    keys = ui.virtual_keys()
    endpoint_slugs = [endpoint["slug"] for endpoint in ui.endpoints()]
except ClientError as exc:
    ui.show_error(exc)
    st.stop()
key_names = {key["id"]: f"{key['name']} ({key['key_prefix']}…)" for key in keys}
for state_key, known in (("logs_key", key_names), ("logs_endpoint", endpoint_slugs)):
    if st.session_state[state_key] not in known:
        st.session_state[state_key] = None

# Filters

columns = st.columns([2, 3, 2, 2, 1.4, 1.6])
range_id = columns[0].selectbox(
    "Time range",
    list(RANGES),
    format_func=lambda value: RANGES[value][0],
    key="logs_range",
)
key_id = columns[1].selectbox(
    "Virtual key",
    list(key_names),
    index=None,
    format_func=key_names.get,
    placeholder=ANY,
    key="logs_key",
)
endpoint = columns[2].selectbox(
    "Endpoint", endpoint_slugs, index=None, placeholder=ANY, key="logs_endpoint"
)
model = columns[3].text_input("Model", key="logs_model", placeholder="gpt-4o")
status = columns[4].selectbox("Status", STATUSES, key="logs_status")
source = columns[5].selectbox("Source", SOURCES, key="logs_source")

now = datetime.now(UTC)
span, bucket = RANGES[range_id][1], RANGES[range_id][2]
start = now - span if span else None
filters = {
    "start": start,
    "key_id": key_id,
    "endpoint": endpoint,
    "model": model.strip() or None,
    "status": None if status == ANY else status,
    "source": None if source == ANY else source,
}

signature = repr(
    sorted((name, str(value)) for name, value in filters.items() if name != "start")
)
signature += range_id
if st.session_state.logs_filters not in (None, signature):
    st.session_state.logs_start_page = 1
    st.session_state.logs_export = None
st.session_state.logs_filters = signature
# The pagination widget's key follows the filters, so new filters start on page 1.
page_key = f"logs_page_{zlib.crc32(signature.encode()):08x}"

for state_key, (param, default) in FILTERS.items():
    value = st.session_state[state_key]
    if value in (None, "", default):
        st.query_params.pop(param, None)
    else:
        st.query_params[param] = value

# Summary and charts over the time range

with st.spinner("Loading analytics…"), ui.reporting_errors():
    summary = client.analytics_summary(start or EPOCH, now)
    metrics = st.columns(6)
    metrics[0].metric("Requests", ui.number(summary["requests"]))
    metrics[1].metric("Error rate", ui.percent(summary["error_rate"]))
    metrics[2].metric("Spend", ui.money(summary["spend_usd"]))
    metrics[3].metric("Latency p50", ui.milliseconds(summary["latency_p50_ms"]))
    metrics[4].metric("Latency p95", ui.milliseconds(summary["latency_p95_ms"]))
    metrics[5].metric("Latency p99", ui.milliseconds(summary["latency_p99_ms"]))

    series = pd.DataFrame(client.analytics_timeseries(start or EPOCH, now, bucket))
    if not series.empty:
        latency_col, error_col = st.columns(2)
        latency_col.markdown(f"**Latency by {bucket}**")
        latency_col.altair_chart(latency_chart(series))
        error_col.markdown(f"**Error rate by {bucket}**")
        error_col.altair_chart(error_rate_chart(series))
    st.caption("The summary and charts cover every request in the time range.")

# The table

start_page = st.session_state.logs_start_page
page = st.session_state.get(page_key, start_page)
with st.spinner("Loading requests…"):
    try:
        result = client.logs(**filters, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE)
        pages = max(1, math.ceil(int(result["total"]) / PAGE_SIZE))
        if page > pages:
            page = pages
            result = client.logs(
                **filters, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE
            )
    except ClientError as exc:
        ui.show_error(exc)
        st.stop()
rows, total = result["data"], int(result["total"])

st.markdown(f"**{total:,} requests**")
if page > 1:
    st.query_params["page"] = str(page)
else:
    st.query_params.pop("page", None)

table = pd.DataFrame(
    {
        "Time": [pd.Timestamp(row["ts"]) for row in rows],
        "Status": [row["status"] for row in rows],
        "Source": [row["source"] for row in rows],
        "Key": [row["key_prefix"] or "" for row in rows],
        "Endpoint": [row["endpoint"] or "" for row in rows],
        "Model": [row["model"] or "" for row in rows],
        "Tokens": [row["prompt_tokens"] + row["completion_tokens"] for row in rows],
        "Cost": [row["cost_usd"] for row in rows],
        "Latency (ms)": [row["latency_ms"] for row in rows],
        "Error": [row["error_code"] or "" for row in rows],
        "Guardrails": [row["guardrail_actions"] for row in rows],
    }
)
selection = st.dataframe(
    table,
    hide_index=True,
    on_select="rerun",
    selection_mode="single-row",
    key="logs_table",
    column_config={
        "Time": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm:ss"),
        "Cost": st.column_config.NumberColumn(format="$%.6f"),
        "Latency (ms)": st.column_config.NumberColumn(format="%.0f"),
        "Guardrails": st.column_config.ListColumn(),
    },
)
if pages > 1:
    st.pagination(pages, default=min(start_page, pages), key=page_key)

# Row details: the selected row, else the request named in the URL

selected = selection.selection.rows
if selected and selected[0] < len(rows):
    st.session_state.logs_request = rows[selected[0]]["request_id"]
elif st.session_state.get("logs_had_selection"):
    st.session_state.logs_request = None
st.session_state.logs_had_selection = bool(selected)

request_id = st.session_state.logs_request
if request_id:
    st.query_params["request"] = request_id
else:
    st.query_params.pop("request", None)
    st.caption("Select a row to see the request's details.")

if request_id:
    with ui.reporting_errors():
        show_detail(client.log(request_id))

# Export of every row that matches the filters, not only this page

st.subheader("Export")
format_col, prepare_col, download_col = st.columns(
    [2, 2, 3], vertical_alignment="bottom"
)
file_format = format_col.radio(
    "Format",
    list(EXPORT_TYPES),
    horizontal=True,
    format_func=str.upper,
    key="logs_format",
)
if prepare_col.button("Prepare file", key="logs_prepare"):
    with st.spinner(f"Exporting {total:,} requests…"):
        try:
            data = client.export_logs(file_format, **filters)
        except ClientError as exc:
            ui.show_error(exc)
        else:
            st.session_state.logs_export = {"format": file_format, "data": data}
export = st.session_state.logs_export
if export:
    stamp = now.strftime("%Y%m%d-%H%M")
    download_col.download_button(
        f"Download {export['format'].upper()} ({len(export['data']):,} bytes)",
        export["data"],
        file_name=f"gateway-logs-{stamp}.{export['format']}",
        mime=EXPORT_TYPES[export["format"]],
        icon=":material/download:",
        key="logs_download",
    )
