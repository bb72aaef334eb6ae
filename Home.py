"""Home: getting-started cards, stats with their change, quick actions and charts."""

from datetime import UTC, datetime, timedelta

import pandas as pd
import streamlit as st

from gateway import ui
from gateway.client import ClientError

PERIODS = {
    "24h": ("24 hours", timedelta(hours=24)),
    "7d": ("7 days", timedelta(days=7)),
    "30d": ("30 days", timedelta(days=30)),
    "90d": ("90 days", timedelta(days=90)),
}
STEPS = {
    "provider_key": {
        "title": "Add a provider key",
        "gives": "The gateway calls OpenAI, Anthropic and the others with your "
        "provider key, stored encrypted and never shown again in full.",
        "button": "Add a provider key",
        "icon": ":material/key:",
        "page": "pages/1_Provider_keys.py",
        "params": {"action": "add"},
    },
    "endpoint": {
        "title": "Create your first endpoint",
        "gives": "An endpoint is the model name your apps send. Creating the first "
        "one also gives you a virtual key and code to call it.",
        "button": "Create endpoint",
        "icon": ":material/add:",
        "page": "pages/2_Endpoints.py",
        "params": {"action": "create"},
    },
    "playground": {
        "title": "Test it in the playground",
        "gives": "Send a first message through the gateway and see the answer, "
        "its cost and its latency.",
        "button": "Open playground",
        "icon": ":material/chat:",
        "page": "pages/5_Playground.py",
        "params": {"action": "open"},
    },
    "guardrail": {
        "title": "Enable a guardrail",
        "gives": "Block or mask personal data, keywords or patterns in prompts "
        "and answers before they reach a provider or an app.",
        "button": "Add guardrail",
        "icon": ":material/shield:",
        "page": "pages/6_Guardrails.py",
        "params": {"action": "create"},
    },
}
QUICK_ACTIONS = [
    ("Create endpoint", ":material/add:", "pages/2_Endpoints.py", {"action": "create"}),
    (
        "Add guardrail",
        ":material/shield:",
        "pages/6_Guardrails.py",
        {"action": "create"},
    ),
    ("View logs", ":material/receipt_long:", "pages/7_Logs.py", {"action": "view"}),
    ("Open playground", ":material/chat:", "pages/5_Playground.py", {"action": "open"}),
]

NOT_ROUTED = "(not routed)"

client = ui.setup_page("Home", ":material/home:")
requested_period = st.query_params.get("period", "7d")

st.title("AI Gateway")
st.caption(f"Apps call the OpenAI API at `{client.public_url}` with a virtual key.")

# Getting started: only the card of the next unfinished step.
try:
    onboarding = client.onboarding()
except ClientError as exc:
    ui.show_error(exc)
    st.stop()
step = STEPS.get(onboarding.get("next") or "")
if step:
    position = list(STEPS).index(onboarding["next"]) + 1
    with st.container(border=True, key="home_card"):
        st.caption(f"Getting started · step {position} of {len(STEPS)}")
        st.subheader(step["title"])
        st.write(step["gives"])
        if st.button(
            step["button"], icon=step["icon"], type="primary", key="home_card_go"
        ):
            st.switch_page(step["page"], query_params=step["params"])

# Stats over the chosen period, against the period before it.
period = st.segmented_control(
    "Period",
    list(PERIODS),
    format_func=lambda name: PERIODS[name][0],
    default=requested_period if requested_period in PERIODS else "7d",
    key="home_period",
    required=True,
)
st.query_params["period"] = period
span = PERIODS[period][1]
end = datetime.now(UTC)
start = end - span

try:
    current = client.analytics_summary(start, end)
    previous = client.analytics_summary(start - span, start)
except ClientError as exc:
    ui.show_error(exc)
    st.stop()

requests, spend, tokens, errors, latency = st.columns(5)
requests.metric(
    "Requests",
    ui.number(current["requests"]),
    ui.change(current["requests"], previous["requests"]),
    border=True,
)
spend.metric(
    "Spend",
    ui.money(current["spend_usd"]),
    ui.change(current["spend_usd"], previous["spend_usd"]),
    delta_color="off",
    border=True,
)
tokens.metric(
    "Tokens",
    ui.number(current["total_tokens"]),
    ui.change(current["total_tokens"], previous["total_tokens"]),
    border=True,
)
# With no requests there is no rate, as there is no median latency.
error_rate = current["error_rate"] if current["requests"] else None
previous_error_rate = previous["error_rate"] if previous["requests"] else None
errors.metric(
    "Error rate",
    ui.percent(error_rate),
    ui.points(error_rate, previous_error_rate),
    delta_color="inverse",
    border=True,
)
latency.metric(
    "Median latency",
    ui.milliseconds(current["latency_p50_ms"]),
    ui.change(current["latency_p50_ms"], previous["latency_p50_ms"]),
    delta_color="inverse",
    border=True,
)

# Quick actions, each opening its page ready for the action.
for column, (label, icon, page, params) in zip(
    st.columns(len(QUICK_ACTIONS)), QUICK_ACTIONS, strict=True
):
    slug = label.lower().replace(" ", "_")
    if column.button(
        label, icon=icon, type="secondary", key=f"home_qa_{slug}", width="stretch"
    ):
        st.switch_page(page, query_params=params)

if not current["requests"]:
    st.info(
        f"No requests in the last {PERIODS[period][0]} yet.", icon=":material/info:"
    )
    st.stop()

# Charts.
with ui.reporting_errors():
    bucket = "hour" if span <= timedelta(days=2) else "day"
    series = pd.DataFrame(client.analytics_timeseries(start, end, bucket))
    models = pd.DataFrame(client.analytics_breakdown("model", start, end))
    keys = pd.DataFrame(client.analytics_breakdown("key", start, end))
    over_time, by_model = st.columns(2)

    if not series.empty:
        series["bucket"] = pd.to_datetime(series["bucket"])
        series = series.set_index("bucket")
        over_time.subheader("Spend over time")
        over_time.bar_chart(series["spend_usd"], y_label="USD")
        over_time.subheader("Requests over time")
        over_time.line_chart(series[["requests", "errors"]])

    if not models.empty:
        # Requests denied before routing (bad key, unknown model) have no model.
        models["name"] = models["name"].fillna(NOT_ROUTED)
        by_model.subheader("Spend by model")
        by_model.bar_chart(
            models,
            x="name",
            y="spend_usd",
            horizontal=True,
            x_label="Spend (USD)",
            y_label="",
        )

    if not keys.empty:
        # Playground requests without a key form their own group with no name.
        keys["name"] = keys["name"].fillna("playground, no key")
        by_model.subheader("Top keys")
        by_model.dataframe(
            keys,
            column_order=["name", "key_prefix", "requests", "errors", "spend_usd"],
            column_config={
                "name": st.column_config.TextColumn("Key"),
                "key_prefix": st.column_config.TextColumn("Prefix"),
                "requests": st.column_config.NumberColumn("Requests"),
                "errors": st.column_config.NumberColumn("Errors"),
                "spend_usd": st.column_config.NumberColumn("Spend", format="$%.4f"),
            },
            hide_index=True,
        )
