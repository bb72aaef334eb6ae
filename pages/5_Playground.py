"""Playground: chat with an endpoint, compare endpoints, edit and send the raw request.

Every request goes through the gateway's own pipeline (guardrails, limits,
logging with source `playground`). Loading the page sends and creates
nothing, because a `?model=` link only preselects the endpoint that serves
the model.
"""

import json

import streamlit as st
from code_editor import code_editor

from gateway import playground_state as pg
from gateway import ui
from gateway.client import ClientError
from gateway.snippets import build_snippets

MODES = ["Chat", "Compare", "Raw request"]
MAX_COMPARED = 3
EDITOR_BUTTONS = [
    {
        "name": "Send",
        "feather": "Play",
        "primary": True,
        "hasText": True,
        "showWithIcon": True,
        "commands": ["submit"],
        "alwaysOn": True,
        "style": {"bottom": "0.44rem", "right": "0.4rem"},
    }
]

client = ui.setup_page("Playground", ":material/chat:")

for name, value in {
    "pg_messages": [],
    "pg_compare_results": [],
    "pg_raw_reply": None,
    "pg_editor_event": "",
    "pg_model_applied": None,
    "pg_pending_endpoint": None,
}.items():
    st.session_state.setdefault(name, value)

ui.show_new_key()
st.title("Playground")

model_id = st.query_params.get("model")
if st.query_params.get("action") == "open":
    st.info(
        "Pick an endpoint in the sidebar and type a message below. "
        "Nothing is sent until you do.",
        icon=":material/chat:",
    )

try:
    endpoints = [endpoint for endpoint in ui.endpoints() if endpoint["active"]]
    keys = [key for key in ui.virtual_keys() if key["status"] == "active"]
except ClientError as exc:
    ui.show_error(exc)
    st.stop()
slugs = [endpoint["slug"] for endpoint in endpoints]
by_slug = {endpoint["slug"]: endpoint for endpoint in endpoints}
key_names = {key["id"]: f"{key['name']} ({key['key_prefix']}…)" for key in keys}


def catalog_entry(model: str) -> dict | None:
    """Return the catalog row whose id is exactly `model`, or None."""
    try:
        rows = ui.catalog(q=model, limit=500)["data"]
    except ClientError:
        # The catalog only adds endpoint slugs and the provider to the match,
        # so the page carries on with the endpoint listing alone.
        return None
    return next((row for row in rows if row["id"].lower() == model.lower()), None)


def remember_model() -> None:
    """Put the chosen endpoint's model in the URL, so the view can be bookmarked."""
    endpoint = by_slug.get(st.session_state.pg_endpoint)
    if endpoint is None:
        return
    model = endpoint["model"]
    if "/" not in model:
        model = f"{endpoint['provider']}/{model}"
    st.query_params["model"] = model
    st.session_state.pg_model_applied = model


def offer_endpoint(model: str, entry: dict | None) -> None:
    """Offer to create an endpoint for `model`, which is created only on a click."""
    provider = entry["provider"] if entry else pg.split_model_id(model)[0]
    st.warning(
        f"No active endpoint serves `{model}` yet. Create one to try it here.",
        icon=":material/add_link:",
    )
    provider_keys = [
        key
        for key in ui.provider_keys()
        if provider is None or key["provider"] == provider
    ]
    if not provider_keys:
        st.info(f"Add a provider key for `{provider}` first, then come back.")
        st.page_link(
            "pages/1_Provider_keys.py", label="Provider keys", icon=":material/key:"
        )
        return

    key_col, slug_col = st.columns(2)
    names = {
        key["id"]: f"{key['name']} ({key['api_key_masked']})" for key in provider_keys
    }
    provider_key_id = key_col.selectbox(
        "Provider key", list(names), format_func=names.get, key="pg_new_key"
    )
    st.session_state.setdefault("pg_new_slug", pg.suggest_slug(model))
    slug = slug_col.text_input(
        "Endpoint slug",
        key="pg_new_slug",
        help="What clients send as `model`: lower case letters, digits and dashes.",
    ).strip()
    check = client.check_slug(slug) if slug else {"valid": False, "available": False}
    if slug and not (check["valid"] and check["available"]):
        hint = f" Try `{check['suggestion']}`." if check.get("suggestion") else ""
        slug_col.caption(f":red[{check['message']}]{hint}")

    clicked = st.button(
        f"Create endpoint for {model}",
        type="primary",
        key="pg_create",
        disabled=not (check["valid"] and check["available"]),
    )
    if not clicked:
        return
    try:
        created = client.create_endpoint(
            slug=slug, provider_key_id=provider_key_id, model=model
        )
    except ClientError as exc:
        ui.show_error(exc)
        return
    ui.clear_listings()
    st.session_state.pg_pending_endpoint = created["slug"]
    if created.get("generated_key"):
        ui.remember_new_key(
            created["generated_key"], client.public_url, created["slug"]
        )
    st.rerun()


# Which endpoint: a just-created one, else the one serving ?model=, else the first.

entry = catalog_entry(model_id) if model_id else None
if st.session_state.pg_pending_endpoint in by_slug:
    st.session_state.pg_endpoint = st.session_state.pg_pending_endpoint
    st.session_state.pg_pending_endpoint = None
    st.session_state.pg_model_applied = model_id
elif model_id and (
    model_id != st.session_state.pg_model_applied
    or st.session_state.get("pg_endpoint") not in by_slug
):
    serving = pg.endpoints_for_model(
        endpoints, model_id, entry["endpoints"] if entry else []
    )
    st.session_state.pg_endpoint = serving[0]["slug"] if serving else None
    st.session_state.pg_model_applied = model_id
elif st.session_state.get("pg_endpoint") not in by_slug:
    st.session_state.pg_endpoint = slugs[0] if slugs else None

with st.sidebar:
    slug = st.selectbox(
        "Endpoint",
        slugs,
        key="pg_endpoint",
        placeholder="Choose an endpoint",
        on_change=remember_model,
    )
    key_id = st.selectbox(
        "Test as virtual key",
        [None, *key_names],
        format_func=lambda value: "None (admin)" if value is None else key_names[value],
        key="pg_key",
        help="With a key, its access rules, rate limits and budget apply, "
        "and the request is charged to it.",
    )
    system_prompt = st.text_area("System prompt", key="pg_system", height=100)
    temperature = st.number_input(
        "Temperature",
        min_value=0.0,
        max_value=2.0,
        step=0.1,
        value=None,
        placeholder="endpoint default",
        key="pg_temperature",
    )
    max_tokens = st.number_input(
        "Max tokens",
        min_value=1,
        step=64,
        value=None,
        placeholder="endpoint default",
        key="pg_max_tokens",
    )

if model_id and slug is None:
    with st.container(border=True), ui.reporting_errors():
        offer_endpoint(model_id, entry)
if not slugs:
    st.info(
        "There is no active endpoint yet. Create one, or pick a model in the catalog."
    )
    st.page_link("pages/2_Endpoints.py", label="Endpoints", icon=":material/hub:")
    st.page_link("pages/4_Catalog.py", label="Catalog", icon=":material/menu_book:")
    st.stop()
if slug is None:
    hint = "Or choose" if model_id else "Choose"
    st.info(f"{hint} an existing endpoint in the sidebar.")
    st.stop()

options = {"temperature": temperature, "max_tokens": max_tokens, "key_id": key_id}
endpoint = by_slug[slug]
st.caption(
    f"`{slug}` serves `{endpoint['model']}` through provider `{endpoint['provider']}`."
)


def history() -> list[dict]:
    """Return the chat so far as messages, leaving out replies that failed."""
    turns = [turn for turn in st.session_state.pg_messages if not turn.get("error")]
    return pg.build_messages(system_prompt, turns)


def stream_reply(target_slug: str, messages: list[dict]) -> dict:
    """Stream one reply into the current container and return it with its stats."""
    stream = client.playground_stream(target_slug, messages, **options)
    try:
        written = st.write_stream(stream)
    except ClientError as exc:
        ui.show_error(exc)
        return {"content": "", "error": exc.message}
    text = written if isinstance(written, str) else "".join(map(str, written))
    stats = pg.format_stats(stream.gateway)
    st.caption(stats)
    return {"content": text, "stats": stats}


@st.dialog("View code", width="large", on_dismiss=ui.close_dialog)
def code_dialog() -> None:
    prefix = next((key["key_prefix"] for key in keys if key["id"] == key_id), None)
    st.markdown(f"Call `{slug}` from an app with a virtual key:")
    ui.snippet_tabs(build_snippets(client.public_url, slug, key_prefix=prefix))
    st.markdown("The OpenAI request body of this chat, for your own code:")
    body = {"model": slug, "messages": history() or [{"role": "user", "content": "…"}]}
    body |= {
        name: value for name, value in options.items() if value and name != "key_id"
    }
    st.code(json.dumps(body, indent=2, ensure_ascii=False), language="json")


mode_col, code_col, clear_col = st.columns([6, 1, 1], vertical_alignment="bottom")
mode = mode_col.radio("Mode", MODES, horizontal=True, key="pg_mode")
code_col.button(
    "View code", key="pg_view_code", on_click=ui.open_dialog, args=("pg_code",)
)
if clear_col.button("Clear chat", key="pg_clear"):
    st.session_state.pg_messages = []
    st.session_state.pg_compare_results = []
    st.session_state.pg_raw_reply = None
if ui.dialog_target("pg_code"):
    code_dialog()

# Chat

if mode == "Chat":
    if not st.session_state.pg_messages:
        st.caption(
            f"Send a message to `{slug}`. Replies show their tokens, cost and latency."
        )
    for turn in st.session_state.pg_messages:
        with st.chat_message(turn["role"]):
            if turn.get("error"):
                st.error(turn["error"], icon=":material/error:")
            else:
                st.markdown(turn["content"])
            if turn.get("stats"):
                st.caption(turn["stats"])

    prompt = st.chat_input(f"Message {slug}", key="pg_prompt")
    if prompt:
        st.session_state.pg_messages.append({"role": "user", "content": prompt})
        with st.chat_message("user"):
            st.markdown(prompt)
        with st.chat_message("assistant"):
            reply = stream_reply(slug, history())
        st.session_state.pg_messages.append({"role": "assistant", **reply})

# Compare: the same prompt to two or three endpoints, side by side

if mode == "Compare":
    chosen = st.multiselect(
        "Endpoints to compare",
        slugs,
        max_selections=MAX_COMPARED,
        key="pg_compare_endpoints",
        placeholder="Choose two or three endpoints",
    )
    prompt = st.text_area("Prompt", key="pg_compare_prompt", height=100)
    # The prompt is checked on click and not through `disabled`, because the
    # text area sends its value only when it loses focus. The first click
    # would then only blur it.
    send = st.button(
        "Send to each",
        type="primary",
        key="pg_compare_send",
        disabled=len(chosen) < 2,
    )
    if len(chosen) < 2:
        st.caption(f"Choose 2 or {MAX_COMPARED} endpoints to compare.")
    results = st.session_state.pg_compare_results
    if send and not prompt.strip():
        st.warning("The prompt is empty. Type a prompt, then send it to each.")
    elif send:
        messages = pg.build_messages(
            system_prompt, [{"role": "user", "content": prompt}]
        )
        results = []
        for column, target in zip(st.columns(len(chosen)), chosen, strict=True):
            with column:
                st.markdown(f"**{target}**")
                results.append({"slug": target, **stream_reply(target, messages)})
        st.session_state.pg_compare_results = results
    elif results:
        for column, result in zip(st.columns(len(results)), results, strict=True):
            column.markdown(f"**{result['slug']}**")
            if result.get("error"):
                column.error(result["error"], icon=":material/error:")
                continue
            column.markdown(result["content"])
            column.caption(result["stats"])

# Raw request: the JSON body of the next chat message, editable and sent as is

if mode == "Raw request":
    st.caption(
        "The body of `POST /admin/playground/chat` for the next message. "
        "Edit it and press Send (or Ctrl+Enter). The reply is not added to the chat."
    )
    draft = history() + [{"role": "user", "content": "Hello!"}]
    body = pg.build_request(slug, draft, stream=False, **options)
    event = code_editor(
        json.dumps(body, indent=2),
        lang="json",
        height=[12, 30],
        buttons=EDITOR_BUTTONS,
        key="pg_editor",
    )
    if (
        event
        and event.get("type") == "submit"
        and event["id"] != st.session_state.pg_editor_event
    ):
        st.session_state.pg_editor_event = event["id"]
        try:
            edited = pg.parse_request_json(event["text"])
        except ValueError as exc:
            st.error(str(exc), icon=":material/error:")
            st.stop()
        edited.pop("stream", None)
        with st.spinner(f"Waiting for {edited['endpoint']}…"):
            try:
                st.session_state.pg_raw_reply = client.playground_chat(
                    edited.pop("endpoint"), edited.pop("messages"), **edited
                )
            except ClientError as exc:
                st.session_state.pg_raw_reply = None
                ui.show_error(exc)
    reply = st.session_state.pg_raw_reply
    if reply:
        st.caption(pg.format_stats(reply.get("gateway")))
        st.json(reply, expanded=2)
