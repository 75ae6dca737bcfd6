"""The channels' rate limits (bot/rasa_ext/channels.py): token buckets per sender id and per client address."""

import pytest

from bot.core.settings import get_settings
from bot.rasa_ext.channels import RateLimits, TokenBucketLimiter


class FakeClock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock():
    return FakeClock()


def test_a_burst_is_allowed_then_one_message_per_interval(clock):
    limiter = TokenBucketLimiter(burst=5, interval_seconds=2, clock=clock)
    assert [limiter.allow("patient") for _ in range(6)] == [True] * 5 + [False]
    clock.now += 1.9
    assert not limiter.allow("patient")
    clock.now += 0.1
    assert limiter.allow("patient")
    assert not limiter.allow("patient")


def test_a_quiet_sender_gets_the_whole_burst_back_and_no_more(clock):
    limiter = TokenBucketLimiter(burst=3, interval_seconds=2, clock=clock)
    assert all(limiter.allow("patient") for _ in range(3))
    clock.now += 3600
    assert [limiter.allow("patient") for _ in range(4)] == [True, True, True, False]


def test_refused_messages_do_not_count(clock):
    """A flooding client is let through again as soon as a token is back, however much it sent meanwhile."""
    limiter = TokenBucketLimiter(burst=1, interval_seconds=2, clock=clock)
    assert limiter.allow("flood")
    for _ in range(10):
        clock.now += 0.1
        assert not limiter.allow("flood")
    clock.now += 1.0
    assert limiter.allow("flood")


def test_each_key_has_its_own_bucket(clock):
    limiter = TokenBucketLimiter(burst=2, interval_seconds=2, clock=clock)
    assert limiter.allow("flood") and limiter.allow("flood") and not limiter.allow("flood")
    assert limiter.allow("other patient")


def test_a_burst_of_zero_turns_the_limit_off(clock):
    limiter = TokenBucketLimiter(burst=0, interval_seconds=2, clock=clock)
    assert all(limiter.allow("patient") for _ in range(1000))


def test_inventing_sender_ids_does_not_grow_the_memory_without_bound(clock):
    limiter = TokenBucketLimiter(burst=2, interval_seconds=2, clock=clock, max_keys=10)
    for number in range(1000):
        assert limiter.allow(f"invented-{number}")
    assert len(limiter._buckets) <= 10


def test_buckets_that_filled_up_again_are_forgotten_first(clock):
    limiter = TokenBucketLimiter(burst=2, interval_seconds=2, clock=clock, max_keys=10)
    for number in range(8):
        limiter.allow(f"quiet-{number}")
    clock.now += 60  # the quiet senders' buckets are full again
    assert limiter.allow("flood") and limiter.allow("flood")
    limiter.allow("another")
    limiter.allow("one more")  # the eleventh key: the full buckets go, the drained one stays
    assert not limiter.allow("flood")


@pytest.fixture
def limits(monkeypatch, clock):
    for name, value in {
        "IVIG_RATE_SENDER_BURST": "2",
        "IVIG_RATE_SENDER_INTERVAL": "2",
        "IVIG_RATE_ADDRESS_BURST": "3",
        "IVIG_RATE_ADDRESS_INTERVAL": "1",
    }.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    yield RateLimits(clock)
    get_settings.cache_clear()


def test_the_limits_come_from_the_settings(limits):
    assert (limits.per_sender.burst, limits.per_sender.interval_seconds) == (2, 2.0)
    assert (limits.per_address.burst, limits.per_address.interval_seconds) == (3, 1.0)


def test_senders_behind_one_address_share_the_address_limit(limits):
    assert limits.allow("patient-1", "203.0.113.7") and limits.allow("patient-2", "203.0.113.7")
    assert limits.allow("patient-3", "203.0.113.7")
    assert not limits.allow("patient-4", "203.0.113.7")
    assert limits.allow("patient-4", "198.51.100.2")


def test_a_flooding_sender_does_not_spend_its_clinics_address_tokens(limits):
    assert limits.allow("flood", "203.0.113.7") and limits.allow("flood", "203.0.113.7")
    for _ in range(20):
        assert not limits.allow("flood", "203.0.113.7")
    assert limits.allow("patient-2", "203.0.113.7")  # one address token left of three
