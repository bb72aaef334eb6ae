"""Shared parts of the workbench pages: setup, errors, formatting, listings, dialogs.

Dialogs are driven by session state rather than by the button that opened
them, so a rerun keeps them open and closing one (a button or the X) clears
the state. Only one dialog is open at a time.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import streamlit as st

from gateway.client import ClientError, GatewayClient, Record
from gateway.snippets import Snippet, build_snippets

LISTING_TTL_SECONDS = 15
DIALOG_STATE = "ui_dialog"
NEW_KEY_STATE = "ui_new_key"
FLASH_STATE = "ui_flash"
# Common chat models that a new endpoint's model picker starts on, in order.
DEFAULT_CHAT_MODELS = ("gpt-4o-mini", "gpt-4o")


def setup_page(title: str, icon: str) -> GatewayClient:
    """Configure the page and return the client, or stop with the reason why not."""
    st.set_page_config(
        page_title=f"{title} · AI Gateway", page_icon=icon, layout="wide"
    )
    try:
        return get_client()
    except ClientError as exc:
        show_error(exc)
        st.stop()


def get_client() -> GatewayClient:
    env = os.environ
    return _client(
        env.get("GATEWAY_URL"),
        env.get("GATEWAY_ADMIN_KEY"),
        env.get("GATEWAY_DATA_DIR"),
    )


@st.cache_resource(show_spinner=False)
def _client(
    url: str | None, admin_key: str | None, data_dir: str | None
) -> GatewayClient:
    # The arguments key the cache, so a changed environment builds a new client.
    return GatewayClient.from_env()


# Errors


def flash(message: str) -> None:
    """Show a success message at the top of the page after the next rerun."""
    st.session_state[FLASH_STATE] = message


def show_flash() -> None:
    message = st.session_state.pop(FLASH_STATE, None)
    if message:
        st.success(message, icon=":material/check:")


def show_error(exc: ClientError) -> None:
    """Show the service's own message, never a traceback."""
    st.error(exc.message, icon=":material/error:")


@contextmanager
def reporting_errors() -> Iterator[None]:
    """Show a `ClientError` raised inside the block and carry on with the page."""
    try:
        yield
    except ClientError as exc:
        show_error(exc)


# Formatting


def money(usd: float | None) -> str:
    if usd is None:
        return "–"
    if 0 < abs(usd) < 0.01:
        return f"${usd:.4f}"
    return f"${usd:,.2f}"


def number(value: float | None) -> str:
    if value is None:
        return "–"
    for limit, suffix in ((1e9, "B"), (1e6, "M"), (1e4, "k")):
        if abs(value) >= limit:
            return f"{value / limit:.1f}{suffix}"
    return f"{value:,.0f}"


def percent(rate: float | None) -> str:
    return "–" if rate is None else f"{rate * 100:.1f}%"


def milliseconds(value: float | None) -> str:
    if value is None:
        return "–"
    return f"{value:,.0f} ms" if value < 1000 else f"{value / 1000:.2f} s"


def change(current: float | None, previous: float | None) -> str | None:
    """Return the relative change for `st.metric`'s delta, or None without a base."""
    if current is None or not previous:
        return None
    return f"{(current - previous) / previous * 100:+.0f}%"


def points(current: float | None, previous: float | None) -> str | None:
    """Return the change of a rate in percentage points for `st.metric`'s delta."""
    if current is None or previous is None or current == previous:
        return None
    return f"{(current - previous) * 100:+.1f} pp"


def chips(values: list[str], color: str = "blue") -> str:
    """Return Markdown badges for a list of names."""
    return " ".join(f":{color}-badge[{_escape(value)}]" for value in values)


def _escape(text: str) -> str:
    return text.replace("[", "\\[").replace("]", "\\]").replace("*", "\\*")


# Cached listings, cleared after every write


@st.cache_data(ttl=LISTING_TTL_SECONDS, show_spinner=False)
def _listing(base_url: str, method: str, params: tuple[tuple[str, Any], ...]) -> Any:
    return getattr(get_client(), method)(**dict(params))


def _cached(method: str, **params: Any) -> Any:
    return _listing(get_client().base_url, method, tuple(sorted(params.items())))


def clear_listings() -> None:
    _listing.clear()


def provider_keys() -> list[Record]:
    return list(_cached("list_provider_keys"))


def providers() -> list[str]:
    return list(_cached("providers"))


def endpoints() -> list[Record]:
    return list(_cached("list_endpoints"))


def virtual_keys() -> list[Record]:
    return list(_cached("list_virtual_keys"))


def guardrails() -> list[Record]:
    return list(_cached("list_guardrails"))


def catalog(**filters: Any) -> Record:
    return dict(_cached("catalog", **filters))


# Dialogs


def open_dialog(name: str, target: Any = None) -> None:
    """Open the dialog `name` for the object id `target` on the next run.

    Pass it as a button's `on_click`.
    """
    st.session_state[DIALOG_STATE] = {"name": name, "target": target}


def close_dialog() -> None:
    st.session_state.pop(DIALOG_STATE, None)


def dialog_target(name: str) -> Any:
    """Return the target of the open dialog if it is `name`, else None."""
    state = st.session_state.get(DIALOG_STATE)
    if not state or state["name"] != name:
        return None
    return state["target"] if state["target"] is not None else True


@st.dialog("Please confirm", on_dismiss=close_dialog)
def confirm_dialog(
    message: str, button_label: str, action: Callable[[], object]
) -> None:
    """Ask before a destructive action, then run it or show the service's error."""
    st.markdown(message)
    left, right = st.columns(2)
    confirmed = left.button(
        button_label, type="primary", key="ui_confirm_yes", width="stretch"
    )
    # Cancel is drawn before the action runs, so it stays after an error.
    if right.button("Cancel", key="ui_confirm_cancel", width="stretch"):
        close_dialog()
        st.rerun()
    if not confirmed:
        return
    try:
        action()
    except ClientError as exc:
        show_error(exc)
        return
    close_dialog()
    clear_listings()
    st.rerun()


def snippet_tabs(snippets: list[Snippet]) -> None:
    tabs = st.tabs([snippet.label for snippet in snippets])
    for tab, snippet in zip(tabs, snippets, strict=True):
        tab.code(snippet.code, language=snippet.language)


# The one-time key dialog


def remember_new_key(created: Record, gateway_url: str, slug: str | None) -> None:
    """Keep a just-created plain key until its dialog closes. Call st.rerun() next."""
    st.session_state[NEW_KEY_STATE] = {
        "key": created["key"],
        "name": created.get("name") or "",
        "key_prefix": created.get("key_prefix") or "",
        "gateway_url": created.get("gateway_url") or gateway_url,
        "slug": created.get("slug") or slug,
    }


def show_new_key() -> None:
    """Open the one-time key dialog when a key was just created or rotated."""
    pending = st.session_state.get(NEW_KEY_STATE)
    if pending:
        _new_key_dialog(pending)


def _forget_new_key() -> None:
    st.session_state.pop(NEW_KEY_STATE, None)


@st.dialog("Your new virtual key", width="large", on_dismiss=_forget_new_key)
def _new_key_dialog(pending: dict[str, Any]) -> None:
    st.warning(
        "Copy this key now. It is shown only this once, because the gateway "
        "keeps only its hash.",
        icon=":material/key:",
    )
    st.markdown(f"**{pending['name']}**")
    st.code(pending["key"], language=None)
    if pending["slug"]:
        st.markdown(f"Call endpoint `{pending['slug']}` with it:")
        snippet_tabs(
            build_snippets(
                pending["gateway_url"], pending["slug"], api_key=pending["key"]
            )
        )
    if st.button("I have copied the key", type="primary", key="ui_new_key_done"):
        _forget_new_key()
        st.rerun()


def default_model_index(model_ids: list[str]) -> int | None:
    """Return the index of the first `DEFAULT_CHAT_MODELS` entry, else 0.

    `model_ids` are catalog ids such as `openai/gpt-4o`, and the match ignores
    the provider prefix. An empty list gives None, so nothing is selected.
    """
    if not model_ids:
        return None
    names = [model_id.split("/", 1)[-1] for model_id in model_ids]
    for preferred in DEFAULT_CHAT_MODELS:
        if preferred in names:
            return names.index(preferred)
    return 0


def unknown_entries(
    entries: list[str], known: list[str]
) -> list[tuple[str, str | None]]:
    """Return the entries that name nothing known, each with the closest known name.

    Entries with a `*` are patterns and pass. This only catches typos while the
    user types, because the service decides what a saved entry matches.
    """
    names = {name.lower() for name in known}
    unknown = []
    for entry in entries:
        cleaned = entry.strip().lower()
        if "*" in cleaned or cleaned in names:
            continue
        close = difflib.get_close_matches(cleaned, list(names), n=1)
        unknown.append((entry, close[0] if close else None))
    return unknown
