"""Virtual keys: the credentials apps call the gateway with, and what each may reach."""

from datetime import date, datetime
from typing import Any

import pandas as pd
import streamlit as st

from gateway import ui
from gateway.client import ClientError
from gateway.snippets import build_snippets

PERIODS = ["none", "daily", "weekly", "monthly"]
LISTS = [
    ("allowed_models", "Allowed models", "models"),
    ("blocked_models", "Blocked models", "models"),
    ("allowed_providers", "Allowed providers", "providers"),
    ("blocked_providers", "Blocked providers", "providers"),
]
TYPED_EXAMPLES = {"models": "gpt-4o*, anthropic/*", "providers": "openai, bedrock*"}
NEW_PREFIX = "keys_new"

client = ui.setup_page("Virtual keys", ":material/vpn_key:")
if st.session_state.pop("keys_reset", False):
    for name in [name for name in st.session_state if name.startswith(NEW_PREFIX)]:
        del st.session_state[name]


def key_fields(prefix: str, current: dict[str, Any]) -> dict[str, Any]:
    """Render every field of a key and return the request body."""
    body: dict[str, Any] = {
        "name": st.text_input("Name", current.get("name", ""), key=f"{prefix}_name"),
        "allowed_endpoints": st.multiselect(
            "Allowed endpoints (none selected: every endpoint)",
            sorted({*slugs, *current.get("allowed_endpoints", [])}),
            current.get("allowed_endpoints", []),
            key=f"{prefix}_endpoints",
        ),
    }
    known = {"models": model_ids, "providers": providers}
    left, right = st.columns(2)
    for index, (field, label, kind) in enumerate(LISTS):
        column = left if index % 2 == 0 else right
        with column:
            body[field] = list_field(
                f"{prefix}_{field}", label, kind, known[kind], current.get(field, [])
            )

    budget, period, rpm, tpm, expiry = st.columns(5)
    # The limits have no min_value, because Streamlit 1.67 turns an
    # out-of-range value into None and the key would be saved without the
    # limit. The service rejects a bad value with a message naming the field.
    body["max_budget_usd"] = budget.number_input(
        "Budget (USD)",
        value=current.get("max_budget_usd"),
        step=1.0,
        placeholder="no budget",
        key=f"{prefix}_budget",
    )
    body["budget_period"] = period.selectbox(
        "Budget period",
        PERIODS,
        PERIODS.index(current.get("budget_period") or "none"),
        key=f"{prefix}_period",
    )
    body["rpm_limit"] = rpm.number_input(
        "Requests per minute",
        value=current.get("rpm_limit"),
        step=1,
        placeholder="unlimited",
        key=f"{prefix}_rpm",
    )
    body["tpm_limit"] = tpm.number_input(
        "Tokens per minute",
        value=current.get("tpm_limit"),
        step=1,
        placeholder="unlimited",
        key=f"{prefix}_tpm",
    )
    expires: date | None = expiry.date_input(
        "Expires on (UTC)",
        expiry_date(current.get("expires_at")),
        key=f"{prefix}_expiry",
    )
    body["expires_at"] = f"{expires.isoformat()}T23:59:59Z" if expires else None
    return body


def list_field(
    key: str, label: str, kind: str, known: list[str], current: list[str]
) -> list[str]:
    """Render one access list as known names to pick plus typed entries.

    Typed entries sit in a text input, because a multiselect that accepts new
    options adds every fuzzy match of the typed text when Enter is pressed.
    """
    names = set(known)
    picked = st.multiselect(
        label,
        sorted(names),
        [entry for entry in current if entry in names],
        placeholder=f"Pick known {kind}",
        key=key,
    )
    typed = st.text_input(
        f"{label}: typed names or patterns",
        ", ".join(entry for entry in current if entry not in names),
        placeholder=TYPED_EXAMPLES[kind],
        help="Comma-separated, saved as typed. `*` matches any run of characters.",
        key=f"{key}_typed",
    )
    entries = [entry.strip() for entry in typed.split(",") if entry.strip()]
    merged = list(dict.fromkeys([*picked, *entries]))
    for entry, close in ui.unknown_entries(merged, known):
        hint = f" Did you mean `{close}`?" if close else ""
        st.warning(f"`{entry}` matches no known {kind[:-1]}.{hint}")
    return merged


def expiry_date(expires_at: str | None) -> date | None:
    if not expires_at:
        return None
    return datetime.fromisoformat(expires_at.replace("Z", "+00:00")).date()


def first_slug(key: dict[str, Any]) -> str | None:
    allowed = key.get("allowed_endpoints") or []
    return allowed[0] if allowed else next(iter(slugs), None)


@st.dialog("Edit virtual key", width="large", on_dismiss=ui.close_dialog)
def edit_dialog(key: dict[str, Any]) -> None:
    body = key_fields(f"keys_edit_{key['id']}", key)
    if st.button("Save", type="primary", key=f"keys_edit_{key['id']}_save"):
        try:
            client.update_virtual_key(key["id"], **body)
        except ClientError as exc:
            ui.show_error(exc)
            return
        ui.close_dialog()
        ui.clear_listings()
        st.rerun()


@st.dialog("Integration", width="large", on_dismiss=ui.close_dialog)
def integration_dialog(key: dict[str, Any]) -> None:
    st.markdown(
        f"These programs read the key from `GATEWAY_API_KEY`. Set it to the key "
        f"that starts with `{key['key_prefix']}`."
    )
    options = key.get("allowed_endpoints") or list(slugs)
    if not options:
        st.info("Create an endpoint first; the snippets call one.")
        return
    slug = st.selectbox("Endpoint", options, key=f"keys_integration_{key['id']}_slug")
    ui.snippet_tabs(
        build_snippets(client.public_url, slug, key_prefix=key["key_prefix"])
    )
    st.caption(
        "Lost the key? The gateway keeps only its hash, so rotate it for a new one."
    )
    if st.button(
        "Rotate key", icon=":material/autorenew:", key="keys_integration_rotate"
    ):
        ui.open_dialog("keys_rotate", key["id"])
        st.rerun()


def endpoint_access(key_id: str, slug: str) -> dict[str, Any]:
    """Explain whether the key may call the endpoint, naming its model in full."""
    decision = client.explain(key_id, endpoint=slug)
    model, provider = decision.get("model"), decision.get("provider")
    if model and provider and not model.startswith(f"{provider}/"):
        decision["model"] = f"{provider}/{model}"
    return {"endpoint": slug, **decision}


@st.dialog("Access preview", width="large", on_dismiss=ui.close_dialog)
def access_dialog(key: dict[str, Any]) -> None:
    st.markdown(f"What **{key['name']}** (`{key['key_prefix']}`) can reach.")
    try:
        reachable = [endpoint_access(key["id"], slug) for slug in slugs]
        models = ui.catalog(key_id=key["id"], limit=5000)["data"]
    except ClientError as exc:
        ui.show_error(exc)
        return
    st.subheader("Endpoints")
    st.dataframe(
        pd.DataFrame(reachable, columns=["endpoint", "allowed", "model", "reason"]),
        hide_index=True,
    )
    allowed = [model["id"] for model in models if model.get("allowed")]
    st.subheader(f"Catalog models: {len(allowed)} of {len(models)} allowed")
    model = st.selectbox(
        "Why is a model allowed or denied?",
        [model["id"] for model in models],
        index=None,
        accept_new_options=True,
        placeholder="Pick or type provider/model",
        key=f"keys_access_{key['id']}_model",
    )
    if model:
        with ui.reporting_errors():
            decision = client.explain(key["id"], model=model)
            show = st.success if decision["allowed"] else st.error
            rule = f" (rule `{decision['rule']}`)" if decision.get("rule") else ""
            show(f"{decision['reason']}{rule}")
    st.dataframe(
        pd.DataFrame(allowed, columns=["allowed model"]), hide_index=True, height=240
    )


def rotate(key_id: str) -> None:
    rotated = client.rotate_virtual_key(key_id)
    ui.remember_new_key(rotated, client.public_url, first_slug(rotated))


st.title("Virtual keys")
st.caption(
    "Apps call the gateway with a virtual key. Each key carries its own access rules."
)
ui.show_new_key()

try:
    keys = ui.virtual_keys()
    slugs = [endpoint["slug"] for endpoint in ui.endpoints()]
    providers = ui.providers()
    model_ids = [model["id"] for model in ui.catalog(limit=5000)["data"]]
except ClientError as exc:
    ui.show_error(exc)
    st.stop()

# Create: the form opens by itself for ?action=create.
with st.expander(
    "Create a virtual key",
    expanded=st.query_params.get("action") == "create" or not keys,
    icon=":material/add:",
):
    new_key = key_fields(NEW_PREFIX, {})
    if st.button(
        "Create key", type="primary", icon=":material/add:", key="keys_create"
    ):
        try:
            created = client.create_virtual_key(**new_key)
        except ClientError as exc:
            ui.show_error(exc)
        else:
            ui.remember_new_key(created, client.public_url, first_slug(created))
            ui.clear_listings()
            st.session_state.keys_reset = True
            st.query_params.pop("action", None)
            st.rerun()

# The list.
if not keys:
    st.info("No virtual keys yet.", icon=":material/info:")
    st.stop()

for key in keys:
    with st.container(border=True, key=f"keys_row_{key['id']}"):
        about, spend, limits = st.columns([3, 3, 2])
        status_color = {"active": "green", "revoked": "red"}.get(
            key["status"], "orange"
        )
        about.markdown(
            f"**{key['name']}** :{status_color}-badge[{key['status']}]  \n"
            f"`{key['key_prefix']}`"
        )
        budget = key.get("max_budget_usd")
        if budget:
            used = key["spend_usd"] / budget
            spend.progress(
                min(used, 1.0),
                text=f"{ui.money(key['spend_usd'])} of {ui.money(budget)} "
                f"({key['budget_period']})",
            )
        else:
            spend.caption(f"{ui.money(key['spend_usd'])} spent, no budget")
        limits.caption(
            f"rpm {key['rpm_limit'] or 'unlimited'} · "
            f"tpm {key['tpm_limit'] or 'unlimited'}  \n"
            f"expires {expiry_date(key.get('expires_at')) or 'never'}"
        )

        acl = [
            ui.chips(key["allowed_endpoints"], "blue"),
            ui.chips(key["allowed_models"] + key["allowed_providers"], "green"),
            ui.chips(key["blocked_models"] + key["blocked_providers"], "red"),
        ]
        st.markdown(
            " ".join(part for part in acl if part) or ":gray-badge[no access rules]"
        )

        active = key["status"] == "active"
        buttons = st.container(horizontal=True)
        for action, label, icon in [
            ("keys_edit", "Edit", ":material/edit:"),
            ("keys_integration", "Integration", ":material/code:"),
            ("keys_access", "Access preview", ":material/visibility:"),
            ("keys_rotate", "Rotate", ":material/autorenew:"),
            ("keys_revoke", "Revoke", ":material/block:"),
        ]:
            buttons.button(
                label,
                icon=icon,
                key=f"{action}_{key['id']}",
                disabled=not active and action != "keys_access",
                on_click=ui.open_dialog,
                args=(action, key["id"]),
            )


def target(name: str) -> dict[str, Any] | None:
    key_id = ui.dialog_target(name)
    return next((key for key in keys if key["id"] == key_id), None)


if key := target("keys_edit"):
    edit_dialog(key)
elif key := target("keys_integration"):
    integration_dialog(key)
elif key := target("keys_access"):
    access_dialog(key)
elif key := target("keys_rotate"):
    ui.confirm_dialog(
        f"Rotate **{key['name']}**? The current secret stops working at once.",
        "Rotate",
        lambda: rotate(key["id"]),
    )
elif key := target("keys_revoke"):
    ui.confirm_dialog(
        f"Revoke **{key['name']}**? Apps using it get 401 `key_revoked`.",
        "Revoke",
        lambda: client.revoke_virtual_key(key["id"]),
    )
