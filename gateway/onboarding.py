"""The getting-started checklist that the workbench shows until every step is done."""

from __future__ import annotations

from typing import Any

from gateway.store import Store

STEPS = ("provider_key", "endpoint", "playground", "guardrail")


def onboarding(store: Store, playground_succeeded: bool = False) -> dict[str, Any]:
    """Return the steps in order with their state, and the first step not yet done.

    `playground_succeeded` comes from the running process, so the step is done
    as soon as a playground reply is sent, before its log row is written.
    """
    state = store.onboarding_state()
    done = {
        "provider_key": state.has_provider_key,
        "endpoint": state.has_endpoint,
        "playground": playground_succeeded or state.has_playground_success,
        "guardrail": state.has_active_guardrail,
    }
    pending = [step for step in STEPS if not done[step]]
    return {
        "steps": [{"id": step, "done": done[step]} for step in STEPS],
        "next": pending[0] if pending else None,
    }
