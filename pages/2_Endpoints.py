"""Endpoints: the slugs that apps send as `model`, and where each one goes."""

from typing import Any

import streamlit as st

from gateway import ui
from gateway.client import ClientError

FORM_KEYS = [
    "ep_name",
    "ep_slug",
    "ep_key",
    "ep_model",
    "ep_system_prompt",
    "ep_temperature",
    "ep_max_tokens",
    "ep_fallbacks",
    "ep_rpm",
]

# The number inputs have no bounds, so an out-of-range value reaches the
# service and its message names the field and the range.
TEMPERATURE_HELP = "From 0 to 2. Leave it empty to set no default."

client = ui.setup_page("Endpoints", ":material/hub:")
if st.session_state.pop("ep_reset", False):
    for name in FORM_KEYS:
        st.session_state.pop(name, None)
st.session_state.setdefault("ep_slug_edited", False)


def suggest_slug() -> None:
    """Fill the slug from the display name until the user edits the slug."""
    if st.session_state.ep_slug_edited:
        return
    name = st.session_state.ep_name.strip()
    try:
        check = client.check_slug(name) if name else {}
    except ClientError:
        return
    usable = check.get("valid") and check.get("available")
    st.session_state.ep_slug = name if usable else check.get("suggestion") or ""


def mark_slug_edited() -> None:
    st.session_state.ep_slug_edited = bool(st.session_state.ep_slug)


def key_label(provider_keys: list[dict[str, Any]], key_id: str) -> str:
    key = next((key for key in provider_keys if key["id"] == key_id), None)
    return f"{key['name']} · {key['provider']}" if key else key_id


@st.dialog("Edit endpoint", width="large", on_dismiss=ui.close_dialog)
def edit_dialog(endpoint: dict[str, Any], others: list[dict[str, Any]]) -> None:
    prefix = f"ep_edit_{endpoint['id']}"
    display_name = st.text_input(
        "Display name", endpoint["display_name"], key=f"{prefix}_name"
    )
    key_ids = [key["id"] for key in provider_keys]
    current_key = endpoint["provider_key_id"]
    provider_key_id = st.selectbox(
        "Provider key",
        key_ids,
        index=key_ids.index(current_key) if current_key in key_ids else None,
        format_func=lambda key_id: key_label(provider_keys, key_id),
        key=f"{prefix}_key",
    )
    model = st.text_input("Model", endpoint["model"], key=f"{prefix}_model")
    system_prompt = st.text_area(
        "System prompt", endpoint["system_prompt"] or "", key=f"{prefix}_system"
    )
    temperature = st.number_input(
        "Temperature",
        value=endpoint["temperature"],
        step=0.1,
        help=TEMPERATURE_HELP,
        key=f"{prefix}_temp",
    )
    max_tokens = st.number_input(
        "Max tokens", value=endpoint["max_tokens"], step=1, key=f"{prefix}_max_tokens"
    )
    fallbacks = st.multiselect(
        "Fallback endpoints",
        [other["id"] for other in others],
        endpoint["fallback_endpoint_ids"],
        format_func=lambda endpoint_id: slugs.get(endpoint_id, endpoint_id),
        key=f"{prefix}_fallbacks",
    )
    rpm = st.number_input(
        "Requests per minute", value=endpoint["rpm_limit"], step=1, key=f"{prefix}_rpm"
    )
    if st.button("Save", type="primary", key=f"{prefix}_save"):
        try:
            saved = client.update_endpoint(
                endpoint["id"],
                display_name=display_name.strip(),
                provider_key_id=provider_key_id,
                model=model.strip(),
                system_prompt=system_prompt.strip() or None,
                temperature=temperature,
                max_tokens=max_tokens,
                fallback_endpoint_ids=fallbacks,
                rpm_limit=rpm,
            )
        except ClientError as exc:
            ui.show_error(exc)
            return
        ui.close_dialog()
        ui.clear_listings()
        ui.flash(f"Saved endpoint {saved['slug']}.")
        st.rerun()


st.title("Endpoints")
st.caption(
    f"Apps send an endpoint's slug as `model` to `{client.public_url}`. The "
    "endpoint decides the provider, the model and its defaults."
)
ui.show_flash()
ui.show_new_key()

try:
    endpoints = ui.endpoints()
    provider_keys = ui.provider_keys()
except ClientError as exc:
    ui.show_error(exc)
    st.stop()
slugs = {endpoint["id"]: endpoint["slug"] for endpoint in endpoints}

# Create: the form opens by itself for ?action=create or while there is none.
creating = st.query_params.get("action") == "create" or not endpoints
with st.expander("Create an endpoint", expanded=creating, icon=":material/add:"):
    if not provider_keys:
        st.info("Add a provider key first: the endpoint calls the provider with it.")
        st.page_link(
            "pages/1_Provider_keys.py",
            label="Add a provider key",
            icon=":material/key:",
            query_params={"action": "add"},
        )
        st.stop()

    name_column, slug_column = st.columns(2)
    name_column.text_input(
        "Display name",
        placeholder="GPT-4o for support",
        key="ep_name",
        on_change=suggest_slug,
        live="300ms",
    )
    slug = slug_column.text_input(
        "Slug",
        placeholder="gpt-4o-support",
        help="What apps send as `model`: lower case letters, digits and dashes.",
        key="ep_slug",
        on_change=mark_slug_edited,
        live="300ms",
    )
    if slug:
        with ui.reporting_errors():
            check = client.check_slug(slug)
            if check["valid"] and check["available"]:
                slug_column.caption(f":green[:material/check: `{slug}` is free]")
            else:
                suggestion = check.get("suggestion")
                hint = f" Try `{suggestion}`." if suggestion else ""
                slug_column.caption(f":red[{check['message']}]{hint}")

    key_id = st.selectbox(
        "Provider key",
        [key["id"] for key in provider_keys],
        format_func=lambda key_id: key_label(provider_keys, key_id),
        key="ep_key",
    )
    provider = next(key["provider"] for key in provider_keys if key["id"] == key_id)
    try:
        models = ui.catalog(provider=provider, mode="chat", sort="id", limit=5000)
    except ClientError as exc:
        ui.show_error(exc)
        models = {"data": []}
    model_ids = [row["id"] for row in models["data"]]
    model = st.selectbox(
        "Model",
        model_ids,
        index=ui.default_model_index(model_ids),
        accept_new_options=True,
        help=f"A {provider} model from the catalog, or type any litellm model id.",
        key="ep_model",
    )

    with st.expander("Defaults and limits (optional)"):
        system_prompt = st.text_area("System prompt", key="ep_system_prompt")
        temperature_column, tokens_column, rpm_column = st.columns(3)
        temperature = temperature_column.number_input(
            "Temperature",
            value=None,
            step=0.1,
            help=TEMPERATURE_HELP,
            key="ep_temperature",
        )
        max_tokens = tokens_column.number_input(
            "Max tokens", value=None, step=1, key="ep_max_tokens"
        )
        rpm = rpm_column.number_input(
            "Requests per minute", value=None, step=1, key="ep_rpm"
        )
        fallbacks = st.multiselect(
            "Fallback endpoints, tried in order when this one fails",
            list(slugs),
            format_func=lambda endpoint_id: slugs[endpoint_id],
            key="ep_fallbacks",
        )

    if st.button(
        "Create endpoint", type="primary", icon=":material/add:", key="ep_create"
    ):
        try:
            created = client.create_endpoint(
                slug=slug.strip(),
                display_name=st.session_state.ep_name.strip() or None,
                provider_key_id=key_id,
                model=(model or "").strip(),
                system_prompt=system_prompt.strip() or None,
                temperature=temperature,
                max_tokens=max_tokens,
                fallback_endpoint_ids=fallbacks,
                rpm_limit=rpm,
            )
        except ClientError as exc:
            ui.show_error(exc)
        else:
            if created.get("generated_key"):
                ui.remember_new_key(
                    created["generated_key"], client.public_url, created["slug"]
                )
            ui.clear_listings()
            st.session_state.ep_reset = True
            st.session_state.ep_slug_edited = False
            st.query_params.pop("action", None)
            ui.flash(f"Created endpoint {created['slug']}.")
            st.rerun()

# The list.
if not endpoints:
    st.info("No endpoints yet.", icon=":material/info:")
    st.stop()

for endpoint in endpoints:
    with st.container(border=True, key=f"ep_row_{endpoint['id']}"):
        about, routing, limits, actions = st.columns(
            [3, 3, 2, 2], vertical_alignment="center"
        )
        status = (
            ":green-badge[active]" if endpoint["active"] else ":gray-badge[inactive]"
        )
        about.markdown(
            f"**{endpoint['display_name']}** {status}  \n`{endpoint['slug']}`"
        )
        routing.markdown(
            f"`{endpoint['model']}`  \n"
            f"{key_label(provider_keys, endpoint['provider_key_id'])}"
        )
        fallback_slugs = [
            slugs.get(item, item) for item in endpoint["fallback_endpoint_ids"]
        ]
        limits.caption(
            f"rpm {endpoint['rpm_limit'] or 'unlimited'}  \n"
            f"fallbacks: {', '.join(fallback_slugs) or 'none'}"
        )
        edit, toggle, delete = actions.columns(3)
        edit.button(
            "",
            icon=":material/edit:",
            help="Edit",
            key=f"ep_edit_{endpoint['id']}",
            on_click=ui.open_dialog,
            args=("ep_edit", endpoint["id"]),
        )
        if toggle.button(
            "",
            icon=":material/pause:" if endpoint["active"] else ":material/play_arrow:",
            help="Deactivate" if endpoint["active"] else "Activate",
            key=f"ep_toggle_{endpoint['id']}",
        ):
            try:
                client.update_endpoint(endpoint["id"], active=not endpoint["active"])
            except ClientError as exc:
                ui.show_error(exc)
            else:
                ui.clear_listings()
                st.rerun()
        delete.button(
            "",
            icon=":material/delete:",
            help="Delete",
            key=f"ep_delete_{endpoint['id']}",
            on_click=ui.open_dialog,
            args=("ep_delete", endpoint["id"]),
        )

editing = next(
    (item for item in endpoints if item["id"] == ui.dialog_target("ep_edit")), None
)
if editing:
    edit_dialog(editing, [item for item in endpoints if item["id"] != editing["id"]])

doomed = next(
    (item for item in endpoints if item["id"] == ui.dialog_target("ep_delete")), None
)
if doomed:
    ui.confirm_dialog(
        f"Delete endpoint **{doomed['slug']}**? Apps that send it get "
        "404 `model_not_found`.",
        "Delete",
        lambda: client.delete_endpoint(doomed["id"]),
    )
