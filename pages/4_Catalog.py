"""Model catalog: litellm's cost map with filters, prices and a playground link."""

import math
import zlib
from urllib.parse import urlencode

import pandas as pd
import streamlit as st

from gateway import ui
from gateway.client import ClientError

PAGE_SIZE = 50
SORTS = {
    "Name": "id",
    "Input price, lowest first": "input_price",
    "Input price, highest first": "-input_price",
    "Output price, lowest first": "output_price",
    "Context window, largest first": "-context",
}
ANY = "Any"
NO_KEY = "No key: show every model"


def playground_url(model_id: str) -> str:
    # Relative to this page, so it also works when the app is served under a path.
    return "Playground?" + urlencode({"model": model_id})


ui.setup_page("Catalog", ":material/menu_book:")

st.title("Model catalog")
st.caption(
    "Every model in litellm's bundled cost map. Prices are USD per million tokens. "
    "A model that an endpoint already serves shows its endpoint slugs."
)

keys = []
with ui.reporting_errors():
    keys = [key for key in ui.virtual_keys() if key["status"] == "active"]
key_names = {key["id"]: f"{key['name']} ({key['key_prefix']}…)" for key in keys}

# Filters. The search and the selected model are kept in the URL as ?q= and
# ?model=, and a link with either one opens with that search.

if "cat_q" not in st.session_state:
    params = st.query_params
    st.session_state.cat_q = params.get("q") or params.get("model") or ""

search_col, provider_col, mode_col, key_col = st.columns([3, 2, 2, 3])
query = search_col.text_input(
    "Search", key="cat_q", placeholder="gpt-4o, claude, llama…"
)
key_id = key_col.selectbox(
    "Check access for a key",
    [None, *key_names],
    format_func=lambda value: NO_KEY if value is None else key_names[value],
    key="cat_key",
    help="Marks the models this key may not use, and the rule that denies each.",
)

flag_cols = st.columns([1, 1.6, 1.2, 2, 2, 3])
vision = flag_cols[0].checkbox("Vision", key="cat_vision")
tools = flag_cols[1].checkbox("Function calling", key="cat_tools")
reasoning = flag_cols[2].checkbox("Reasoning", key="cat_reasoning")
min_context = flag_cols[3].number_input(
    "Min context window (tokens)", min_value=0, step=8000, key="cat_min_context"
)
max_price = flag_cols[4].number_input(
    "Max input price (USD per 1M)",
    min_value=0.0,
    step=0.5,
    value=None,
    key="cat_max_price",
    placeholder="no limit",
)
sort_label = flag_cols[5].selectbox("Sort", list(SORTS), key="cat_sort")

# Every catalog response lists all providers and modes, so an unfiltered
# one-row request fills the two selectboxes.
facets = {"providers": [], "modes": []}
with ui.reporting_errors():
    facets = ui.catalog(limit=1)
provider = provider_col.selectbox(
    "Provider", [ANY, *facets["providers"]], key="cat_provider"
)
mode = mode_col.selectbox("Mode", [ANY, *facets["modes"]], key="cat_mode")

if query.strip():
    st.query_params["q"] = query.strip()
else:
    st.query_params.pop("q", None)

filters = {
    "q": query.strip() or None,
    "provider": None if provider == ANY else provider,
    "mode": None if mode == ANY else mode,
    "vision": True if vision else None,
    "function_calling": True if tools else None,
    "reasoning": True if reasoning else None,
    "min_context": int(min_context) or None,
    "max_input_price": max_price,
    "sort": SORTS[sort_label],
    "key_id": key_id,
}

# One page of models

# The pagination widget's key follows the filters, so new filters start on page 1.
signature = repr(sorted(filters.items()))
page_key = f"cat_page_{zlib.crc32(signature.encode()):08x}"
page = st.session_state.get(page_key, 1)

with st.spinner("Loading the catalog…"):
    try:
        result = ui.catalog(**filters, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE)
    except ClientError as exc:
        ui.show_error(exc)
        st.stop()

total = int(result["total"])
models = result["data"]
st.caption(f"{total:,} models match.")
if total == 0:
    st.info("No model matches these filters. Clear the search or loosen a filter.")
    st.stop()

table = pd.DataFrame(
    {
        "Model": [model["id"] for model in models],
        "Provider": [model["provider"] for model in models],
        "Mode": [model["mode"] for model in models],
        "Context": [model["max_input_tokens"] for model in models],
        "Input $/1M": [model["input_price_per_mtok"] for model in models],
        "Output $/1M": [model["output_price_per_mtok"] for model in models],
        "Vision": [bool(model["supports_vision"]) for model in models],
        "Tools": [bool(model["supports_function_calling"]) for model in models],
        "Reasoning": [bool(model["supports_reasoning"]) for model in models],
        "Served by": [model["endpoints"] for model in models],
        "Try": [playground_url(model["id"]) for model in models],
    }
)
columns = {
    "Context": st.column_config.NumberColumn(format="localized"),
    "Input $/1M": st.column_config.NumberColumn(format="$%.3f"),
    "Output $/1M": st.column_config.NumberColumn(format="$%.3f"),
    "Served by": st.column_config.ListColumn(
        help="Endpoint slugs that serve this model"
    ),
    "Try": st.column_config.LinkColumn(display_text="Open in playground"),
}
leading_columns = ["Model", "Try", "Served by"]
styled = table
if key_id:
    leading_columns = ["Model", "Key may use", "Denied by", "Try", "Served by"]
    # A checkbox column, because emoji show as empty boxes without an emoji font.
    table["Key may use"] = [bool(model["allowed"]) for model in models]
    columns["Key may use"] = st.column_config.CheckboxColumn(
        help="Whether the chosen key's access rules allow this model"
    )
    table["Denied by"] = [model["denied_by"] or "" for model in models]
    denied = [not model["allowed"] for model in models]
    styled = table.style.apply(
        lambda row: ["color: #9aa0a6" if denied[row.name] else ""] * len(row), axis=1
    )

selection = st.dataframe(
    styled,
    hide_index=True,
    column_config=columns,
    column_order=[
        *leading_columns,
        *[name for name in table.columns if name not in leading_columns],
    ],
    height=460,
    on_select="rerun",
    selection_mode="single-row",
    key="cat_table",
)
if total > PAGE_SIZE:
    st.pagination(math.ceil(total / PAGE_SIZE), key=page_key)

# The selected model

rows = selection.selection.rows
if not rows:
    st.query_params.pop("model", None)
    st.caption("Select a row to see the model and try it in the playground.")
    st.stop()

model = models[rows[0]]
st.query_params["model"] = model["id"]
st.subheader(model["id"])
if model["endpoints"]:
    st.markdown("Served by " + ui.chips(model["endpoints"], "green"))
else:
    st.markdown(":gray-badge[No endpoint serves this model yet]")
if key_id and not model["allowed"]:
    st.warning(
        f"{key_names[key_id]} may not use this model: "
        f"denied by `{model['denied_by']}`.",
        icon=":material/block:",
    )
st.page_link(
    "pages/5_Playground.py",
    label="Try in playground",
    icon=":material/chat:",
    query_params={"model": model["id"]},
)
