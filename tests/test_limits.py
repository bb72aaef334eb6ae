"""Rate limits: rpm of keys and endpoints, tpm of keys, sliding windows, concurrency."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from gateway.errors import RateLimited
from gateway.limits import Limiter
from gateway.models import Endpoint, VirtualKey


def make_key(
    key_id: str = "vk_1", rpm: int | None = None, tpm: int | None = None
) -> VirtualKey:
    return VirtualKey(
        id=key_id,
        name=key_id,
        key_hash="0" * 64,
        key_prefix="sk-gw-Ab12Cd",
        rpm_limit=rpm,
        tpm_limit=tpm,
    )


def make_endpoint(endpoint_id: str = "ep_1", rpm: int | None = None) -> Endpoint:
    return Endpoint(
        id=endpoint_id,
        slug="gpt4o",
        display_name="GPT-4o",
        provider_key_id="pk_1",
        model="openai/gpt-4o",
        rpm_limit=rpm,
    )


def admitted(
    limiter: Limiter, key: VirtualKey, endpoint: Endpoint, **kw: float
) -> bool:
    try:
        limiter.check_request(
            key, endpoint, int(kw.get("tokens", 10)), now=kw.get("now")
        )
    except RateLimited:
        return False
    return True


def test_no_limits_admits_everything() -> None:
    limiter = Limiter()
    key, endpoint = make_key(), make_endpoint()
    for _ in range(1000):
        limiter.check_request(key, endpoint, 10_000, now=0.0)


def test_key_rpm_exact_under_thread_concurrency() -> None:
    limiter = Limiter()
    key, endpoint = make_key(rpm=5), make_endpoint()
    barrier = threading.Barrier(10)

    def attempt(_: int) -> bool:
        barrier.wait()
        return admitted(limiter, key, endpoint)

    with ThreadPoolExecutor(max_workers=10) as pool:
        results = list(pool.map(attempt, range(10)))

    assert results.count(True) == 5
    assert results.count(False) == 5


def test_key_rpm_message_and_retry_after() -> None:
    limiter = Limiter()
    key, endpoint = make_key(rpm=2), make_endpoint()
    limiter.check_request(key, endpoint, 1, now=100.0)
    limiter.check_request(key, endpoint, 1, now=110.0)

    with pytest.raises(RateLimited) as caught:
        limiter.check_request(key, endpoint, 1, now=112.0)

    error = caught.value
    assert error.code == "rate_limit_exceeded"
    assert error.status_code == 429
    assert "sk-gw-Ab12Cd" in error.message
    assert "rpm limit of 2" in error.message
    # The first admission (t=100) leaves the window at t=160: 48 s from t=112.
    assert error.retry_after == 48
    assert error.headers["Retry-After"] == "48"


def test_window_slides_with_injected_clock() -> None:
    limiter = Limiter()
    key, endpoint = make_key(rpm=2), make_endpoint()
    assert admitted(limiter, key, endpoint, now=0.0)
    assert admitted(limiter, key, endpoint, now=30.0)
    assert not admitted(limiter, key, endpoint, now=59.9)
    assert admitted(limiter, key, endpoint, now=60.0)
    assert not admitted(limiter, key, endpoint, now=89.0)
    assert admitted(limiter, key, endpoint, now=90.0)


def test_endpoint_rpm_shared_across_keys() -> None:
    limiter = Limiter()
    endpoint = make_endpoint(rpm=3)
    keys = [make_key(f"vk_{i}") for i in range(5)]
    results = [admitted(limiter, key, endpoint, now=0.0) for key in keys]
    assert results == [True, True, True, False, False]

    with pytest.raises(RateLimited) as caught:
        limiter.check_request(keys[0], endpoint, 1, now=1.0)
    assert "Endpoint gpt4o exceeded its rpm limit of 3" in caught.value.message


def test_key_rpm_separate_per_key() -> None:
    limiter = Limiter()
    endpoint = make_endpoint()
    first, second = make_key("vk_a", rpm=1), make_key("vk_b", rpm=1)
    assert admitted(limiter, first, endpoint, now=0.0)
    assert not admitted(limiter, first, endpoint, now=0.0)
    assert admitted(limiter, second, endpoint, now=0.0)


def test_tpm_counts_admitted_tokens() -> None:
    limiter = Limiter()
    key, endpoint = make_key(tpm=100), make_endpoint()
    assert admitted(limiter, key, endpoint, tokens=60, now=0.0)
    assert admitted(limiter, key, endpoint, tokens=40, now=10.0)
    assert not admitted(limiter, key, endpoint, tokens=1, now=20.0)

    with pytest.raises(RateLimited) as caught:
        limiter.check_request(key, endpoint, 50, now=20.0)
    assert "tpm limit of 100" in caught.value.message
    # 50 tokens fit once the 60 admitted at t=0 leave the window at t=60.
    assert caught.value.retry_after == 40


def test_tpm_retry_after_waits_for_enough_tokens() -> None:
    limiter = Limiter()
    key, endpoint = make_key(tpm=100), make_endpoint()
    for second in (0.0, 10.0, 20.0, 30.0):
        limiter.check_request(key, endpoint, 25, now=second)

    with pytest.raises(RateLimited) as caught:
        limiter.check_request(key, endpoint, 60, now=40.0)
    # 60 tokens need three entries of 25 gone; the third leaves at t=80.
    assert caught.value.retry_after == 40


def test_tpm_request_larger_than_limit() -> None:
    limiter = Limiter()
    key, endpoint = make_key(tpm=100), make_endpoint()
    with pytest.raises(RateLimited) as caught:
        limiter.check_request(key, endpoint, 101, now=0.0)
    assert "more than the tpm limit of 100" in caught.value.message
    assert "lower max_tokens" in caught.value.message


def test_tpm_window_slides() -> None:
    limiter = Limiter()
    key, endpoint = make_key(tpm=100), make_endpoint()
    assert admitted(limiter, key, endpoint, tokens=100, now=0.0)
    assert not admitted(limiter, key, endpoint, tokens=1, now=59.0)
    assert admitted(limiter, key, endpoint, tokens=100, now=60.0)


def test_denied_by_endpoint_consumes_no_key_quota() -> None:
    limiter = Limiter()
    key = make_key(rpm=2, tpm=1000)
    busy, free = make_endpoint("ep_busy", rpm=1), make_endpoint("ep_free")
    assert admitted(limiter, make_key("vk_other"), busy, now=0.0)

    for _ in range(5):
        assert not admitted(limiter, key, busy, tokens=400, now=1.0)

    assert admitted(limiter, key, free, tokens=500, now=2.0)
    assert admitted(limiter, key, free, tokens=500, now=3.0)


def test_denied_by_tpm_consumes_no_rpm_quota() -> None:
    limiter = Limiter()
    key = make_key(rpm=2, tpm=100)
    endpoint = make_endpoint(rpm=2)
    for _ in range(5):
        assert not admitted(limiter, key, endpoint, tokens=500, now=0.0)

    assert admitted(limiter, key, endpoint, tokens=10, now=1.0)
    assert admitted(limiter, key, endpoint, tokens=10, now=1.0)


def test_denied_by_key_rpm_consumes_no_endpoint_quota() -> None:
    limiter = Limiter()
    endpoint = make_endpoint(rpm=2)
    limited = make_key("vk_limited", rpm=1)
    assert admitted(limiter, limited, endpoint, now=0.0)
    for _ in range(5):
        assert not admitted(limiter, limited, endpoint, now=0.0)

    assert admitted(limiter, make_key("vk_other"), endpoint, now=0.0)


def test_limit_change_applies_at_once() -> None:
    limiter = Limiter()
    endpoint = make_endpoint()
    assert admitted(limiter, make_key(rpm=1), endpoint, now=0.0)
    assert not admitted(limiter, make_key(rpm=1), endpoint, now=0.0)
    assert admitted(limiter, make_key(rpm=2), endpoint, now=0.0)


def test_rpm_zero_denies_with_retry_after() -> None:
    limiter = Limiter()
    with pytest.raises(RateLimited) as caught:
        limiter.check_request(make_key(rpm=0), make_endpoint(), 1, now=0.0)
    assert caught.value.retry_after >= 1


def test_record_usage_counts_excess_tokens() -> None:
    limiter = Limiter()
    key, endpoint = make_key(tpm=100), make_endpoint()
    limiter.check_request(key, endpoint, 20, now=0.0)

    limiter.record_usage(key, admitted_tokens=20, actual_tokens=90, now=5.0)

    assert not admitted(limiter, key, endpoint, tokens=11, now=10.0)
    assert admitted(limiter, key, endpoint, tokens=10, now=10.0)
    # The 70 extra tokens count from t=5, so they leave the window at t=65.
    assert not admitted(limiter, key, endpoint, tokens=80, now=64.0)
    assert admitted(limiter, key, endpoint, tokens=80, now=65.0)


def test_record_usage_ignores_unused_tokens() -> None:
    limiter = Limiter()
    key, endpoint = make_key(tpm=100), make_endpoint()
    limiter.check_request(key, endpoint, 100, now=0.0)

    limiter.record_usage(key, admitted_tokens=100, actual_tokens=10, now=1.0)
    limiter.record_usage(make_key(), admitted_tokens=0, actual_tokens=10, now=1.0)

    assert not admitted(limiter, key, endpoint, tokens=1, now=2.0)


def test_check_endpoint_counts_only_endpoint_window() -> None:
    limiter = Limiter()
    endpoint = Endpoint(
        id="ep_1",
        slug="backup",
        display_name="",
        provider_key_id="pk",
        model="m",
        rpm_limit=1,
    )
    limiter.check_endpoint(endpoint, now=100.0)
    with pytest.raises(RateLimited) as denied:
        limiter.check_endpoint(endpoint, now=101.0)
    assert "backup" in denied.value.message
    assert denied.value.retry_after == 59
    limiter.check_endpoint(endpoint, now=161.0)


def test_check_endpoint_without_limit_is_free() -> None:
    limiter = Limiter()
    endpoint = Endpoint(
        id="ep_2", slug="open", display_name="", provider_key_id="pk", model="m"
    )
    for second in range(100):
        limiter.check_endpoint(endpoint, now=float(second))
