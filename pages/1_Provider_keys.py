"""Provider keys: the credentials the gateway calls providers with."""

import streamlit as st

from gateway import ui
from gateway.client import ClientError

client = ui.setup_page("Provider keys", ":material/key:")

st.title("Provider keys")
ui.show_flash()
st.caption(
    "The secrets the gateway sends to providers. They are stored encrypted and "
    "listed only masked."
)

try:
    keys = ui.provider_keys()
    providers = ui.providers()
except ClientError as exc:
    ui.show_error(exc)
    st.stop()

# Add a key. The form opens by itself for ?action=add or while there is none.
adding = st.query_params.get("action") == "add" or not keys
with st.expander("Add a provider key", expanded=adding, icon=":material/add:"):
    with st.form("pk_add", clear_on_submit=True, border=False):
        name = st.text_input("Name", placeholder="OpenAI prod", key="pk_name")
        provider = st.selectbox(
            "Provider",
            providers,
            index=providers.index("openai") if "openai" in providers else 0,
            key="pk_provider",
        )
        secret = st.text_input("API key", type="password", key="pk_secret")
        api_base = st.text_input(
            "Base URL (optional)",
            placeholder="https://api.openai.com/v1",
            help="Set it for a self-hosted model, a proxy or an Azure resource.",
            key="pk_api_base",
        )
        submitted = st.form_submit_button(
            "Add key", type="primary", icon=":material/add:", key="pk_add_submit"
        )
    if submitted:
        try:
            created = client.create_provider_key(
                name.strip(), provider, secret.strip(), api_base.strip() or None
            )
        except ClientError as exc:
            ui.show_error(exc)
        else:
            ui.clear_listings()
            st.query_params.pop("action", None)
            ui.flash(f"Added provider key {created['name']}.")
            st.rerun()

# The list.
if not keys:
    st.info("No provider keys yet.", icon=":material/info:")
    st.stop()

for key in keys:
    with st.container(border=True, key=f"pk_row_{key['id']}"):
        about, secret_column, usage, actions = st.columns(
            [3, 2, 2, 1], vertical_alignment="center"
        )
        about.markdown(f"**{key['name']}**  \n:blue-badge[{key['provider']}]")
        secret_column.code(key["api_key_masked"], language=None)
        usage.caption(
            f"{key.get('endpoint_count', 0)} endpoint(s)  \n"
            f"{key.get('api_base') or 'default base URL'}"
        )
        actions.button(
            "Delete",
            icon=":material/delete:",
            key=f"pk_delete_{key['id']}",
            on_click=ui.open_dialog,
            args=("pk_delete", key["id"]),
        )

target = ui.dialog_target("pk_delete")
doomed = next((key for key in keys if key["id"] == target), None)
if doomed:
    ui.confirm_dialog(
        f"Delete provider key **{doomed['name']}**? The gateway forgets its secret.",
        "Delete",
        lambda: client.delete_provider_key(doomed["id"]),
    )
