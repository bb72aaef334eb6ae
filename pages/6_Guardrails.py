"""Guardrails page: block or mask personal data, words or patterns, and a test box."""

import html

import pandas as pd
import streamlit as st

from gateway import ui
from gateway.client import ClientError

PII_ENTITIES = ["email", "phone", "credit_card", "iban", "ip_address", "secret"]
KINDS = {
    "pii": "Personal data (PII)",
    "keyword": "Keywords",
    "regex": "Regular expression",
}
SCOPES = {"input": "Requests", "output": "Replies", "both": "Both"}
ACTIONS = {"block": "Block", "mask": "Mask"}
HIGHLIGHT = {"block": "red", "mask": "orange"}
MARK_COLORS = {"block": "#f8c9c5", "mask": "#fde2b8"}
FORM_KEYS = [
    "gr_name",
    "gr_kind",
    "gr_entities",
    "gr_words",
    "gr_pattern",
    "gr_scope",
    "gr_action",
    "gr_new_active",
]

client = ui.setup_page("Guardrails", ":material/shield:")
ui.show_flash()
# A created guardrail empties the form, so the next one starts from defaults.
if st.session_state.pop("gr_reset", False):
    for name in FORM_KEYS:
        st.session_state.pop(name, None)

for name, value in {"gr_test_result": None, "gr_error": None}.items():
    st.session_state.setdefault(name, value)


def describe(config: dict, kind: str) -> str:
    if kind == "pii":
        return "entities: " + ", ".join(config.get("entities") or PII_ENTITIES)
    if kind == "keyword":
        return "words: " + ", ".join(config.get("words") or [])
    return f"pattern: `{config.get('pattern', '')}`"


def set_active(guardrail_id: str) -> None:
    active = st.session_state[f"gr_active_{guardrail_id}"]
    try:
        client.update_guardrail(guardrail_id, active=active)
    except ClientError as exc:
        st.session_state.gr_error = exc.message
    ui.clear_listings()


def highlight(text: str, matches: list[dict]) -> str:
    """Return `text` as HTML with matches marked red (block) or orange (mask)."""
    parts, cursor = [], 0
    for match in sorted(matches, key=lambda m: (m["start"], -m["end"])):
        if match["start"] < cursor:
            continue
        parts.append(html.escape(text[cursor : match["start"]]))
        color = MARK_COLORS.get(match["action"], "#e8eaed")
        marked = html.escape(text[match["start"] : match["end"]])
        parts.append(f'<mark style="background: {color}">{marked}</mark>')
        cursor = match["end"]
    parts.append(html.escape(text[cursor:]))
    return '<div style="white-space: pre-wrap">' + "".join(parts) + "</div>"


st.title("Guardrails")
st.caption(
    "Active guardrails check every request (input), every reply (output) or both, "
    "in the API and in the playground. A match either blocks the request or is masked."
)
if st.query_params.get("action") == "create":
    st.info(
        "Ready for a new guardrail: fill in **New guardrail** below.",
        icon=":material/add:",
    )
if st.session_state.gr_error:
    st.error(st.session_state.gr_error, icon=":material/error:")
    st.session_state.gr_error = None

# The rules

try:
    guardrails = ui.guardrails()
except ClientError as exc:
    ui.show_error(exc)
    st.stop()

if not guardrails:
    st.info("No guardrails yet. Requests and replies pass unchanged.")
for guardrail in guardrails:
    with st.container(border=True):
        text_col, toggle_col, delete_col = st.columns(
            [7, 2, 2], vertical_alignment="center"
        )
        text_col.markdown(
            f"**{guardrail['name']}** "
            + ui.chips([KINDS[guardrail["kind"]], SCOPES[guardrail["scope"]]], "blue")
            + " "
            + ui.chips([ACTIONS[guardrail["action"]]], HIGHLIGHT[guardrail["action"]])
        )
        text_col.caption(describe(guardrail["config"], guardrail["kind"]))
        toggle_col.toggle(
            "Active",
            value=guardrail["active"],
            key=f"gr_active_{guardrail['id']}",
            on_change=set_active,
            args=(guardrail["id"],),
        )
        delete_col.button(
            "Delete",
            key=f"gr_delete_{guardrail['id']}",
            icon=":material/delete:",
            on_click=ui.open_dialog,
            args=("gr_delete", guardrail),
        )

target = ui.dialog_target("gr_delete")
if target:
    ui.confirm_dialog(
        f"Delete the guardrail **{target['name']}**? "
        "Requests and replies stop being checked by it.",
        "Delete",
        lambda: client.delete_guardrail(target["id"]),
    )

# A new rule, which the test box below can also try before it is saved

st.subheader("New guardrail")
with st.container(border=True):
    name_col, kind_col = st.columns(2)
    name = name_col.text_input("Name", key="gr_name", placeholder="No email addresses")
    kind = kind_col.selectbox("Kind", list(KINDS), format_func=KINDS.get, key="gr_kind")
    if kind == "pii":
        entities = st.multiselect(
            "Entities", PII_ENTITIES, default=PII_ENTITIES, key="gr_entities"
        )
        config = {"entities": entities}
    elif kind == "keyword":
        words = st.text_area(
            "Words",
            key="gr_words",
            help="One word or phrase per line, matched case-insensitively.",
        )
        config = {
            "words": [word.strip() for word in words.splitlines() if word.strip()]
        }
    else:
        pattern = st.text_input("Pattern", key="gr_pattern", placeholder=r"ORD-\d{6}")
        config = {"pattern": pattern}
    scope_col, action_col, active_col = st.columns(3)
    scope = scope_col.radio(
        "Scope", list(SCOPES), format_func=SCOPES.get, horizontal=True, key="gr_scope"
    )
    action = action_col.radio(
        "Action",
        list(ACTIONS),
        format_func=ACTIONS.get,
        horizontal=True,
        key="gr_action",
    )
    active = active_col.checkbox("Active", value=True, key="gr_new_active")
    draft = {
        "name": name.strip() or "draft",
        "kind": kind,
        "scope": scope,
        "action": action,
        "active": active,
        "config": config,
    }
    if st.button("Create guardrail", type="primary", key="gr_create"):
        try:
            created = client.create_guardrail(**{**draft, "name": name.strip()})
        except ClientError as exc:
            ui.show_error(exc)
        else:
            ui.clear_listings()
            st.session_state.gr_reset = True
            ui.flash(f"Created guardrail {created['name']}.")
            st.rerun()

# Test box

st.subheader("Test")
text = st.text_area(
    "Text",
    key="gr_test_text",
    placeholder="Mail jane@example.com or call +1 415 555 0100",
)
test_scope = st.radio(
    "Check it as",
    ["input", "output"],
    format_func=SCOPES.get,
    horizontal=True,
    key="gr_test_scope",
)
active_col, draft_col, _ = st.columns([2, 2, 4])
against_active = active_col.button(
    "Test against active guardrails", key="gr_test_active"
)
against_draft = draft_col.button("Test the new guardrail", key="gr_test_draft")
if against_active or against_draft:
    with st.spinner("Testing…"):
        try:
            result = client.test_guardrails(
                text, test_scope, guardrail=draft if against_draft else None
            )
        except ClientError as exc:
            ui.show_error(exc)
            result = None
    st.session_state.gr_test_result = (
        {"result": result, "text": text, "draft": against_draft} if result else None
    )

tested = st.session_state.gr_test_result
if tested:
    result, matches = tested["result"], tested["result"]["matches"]
    source = "the new guardrail" if tested["draft"] else "the active guardrails"
    names = sorted({match["name"] for match in matches})
    if result["blocked"]:
        st.error(f"Blocked by {', '.join(names)} ({source}).", icon=":material/block:")
    elif matches:
        st.warning(
            f"Masked by {', '.join(names)} ({source}).",
            icon=":material/visibility_off:",
        )
    else:
        st.success(
            f"Nothing matched {source}: the text passes unchanged.",
            icon=":material/check:",
        )
    if matches:
        st.markdown("**Matches**")
        st.html(highlight(tested["text"], matches))
        st.dataframe(
            pd.DataFrame(
                {
                    "Guardrail": [match["name"] for match in matches],
                    "Kind": [match["kind"] for match in matches],
                    "Action": [match["action"] for match in matches],
                    "Entity": [match.get("entity") or "" for match in matches],
                    "Text": [
                        tested["text"][match["start"] : match["end"]]
                        for match in matches
                    ],
                }
            ),
            hide_index=True,
        )
    if not result["blocked"]:
        st.markdown("**Text after masking**")
        st.code(result["text"], language=None, wrap_lines=True)
