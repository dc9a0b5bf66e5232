import asyncio

import httpx
import pytest

from plugins.secupay.client import SecupayClient
from plugins.secupay.settings import EXAMPLE_CLIENT_ID, EXAMPLE_CLIENT_SECRET
from plugins.secupay.token import TokenCache
from shop.payments.contract import ProviderError, ProviderUnavailable

from .conftest import SB, example_body


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


@pytest.mark.anyio
async def test_token_is_reused_until_shortly_before_expiry(http, sandbox):
    clock = Clock()
    tokens = TokenCache(http, f"{SB}/oauth/token", EXAMPLE_CLIENT_ID, EXAMPLE_CLIENT_SECRET, margin=30, clock=clock)
    first = await tokens.get()
    clock.now += 1200 - 31
    assert await tokens.get() == first
    assert tokens.fetches == 1
    clock.now += 2  # inside the margin: renewed before the server would refuse it
    second = await tokens.get()
    assert second != first
    assert tokens.fetches == 2 == sandbox.token_fetches


@pytest.mark.anyio
async def test_concurrent_calls_share_one_token_fetch(client, sandbox):
    sandbox.scenarios.api = "slow"  # keep many calls in flight at once
    results = await asyncio.gather(*(client.create_smart_transaction(example_body()) for _ in range(25)))
    assert len({r["id"] for r in results}) == 25
    assert client.tokens.fetches == 1
    assert sandbox.token_fetches == 1


@pytest.mark.anyio
@pytest.mark.parametrize("refusal", [403, 401])
async def test_refused_token_is_renewed_and_the_call_retried_once(client, sandbox, refusal):
    sandbox.scenarios.token_refusal = refusal
    stx = await client.create_smart_transaction(example_body())
    sandbox.expire_tokens()  # the server forgot it before our clock says so
    again = await client.get_smart_transaction(stx["id"])
    assert again["id"] == stx["id"]
    assert client.tokens.fetches == 2


@pytest.mark.anyio
async def test_a_token_refused_twice_is_not_retried_forever(client, sandbox, monkeypatch):
    monkeypatch.setattr(sandbox, "token_valid", lambda token: False)
    with pytest.raises(ProviderError) as error:
        await client.get_smart_transaction("STX_X")
    assert error.value.status == 403
    assert error.value.code == "2003"
    assert client.tokens.fetches == 2


@pytest.mark.anyio
async def test_concurrent_refusals_fetch_one_new_token(client, sandbox):
    stx = await client.create_smart_transaction(example_body())
    sandbox.expire_tokens()
    await asyncio.gather(*(client.get_smart_transaction(stx["id"]) for _ in range(10)))
    assert client.tokens.fetches == 2


@pytest.mark.anyio
async def test_wrong_secret_is_a_configuration_error_without_the_secret(http):
    client = SecupayClient(http, base_url=SB, client_id=EXAMPLE_CLIENT_ID, client_secret="nope" * 16)
    with pytest.raises(ProviderError) as error:
        await client.get_smart_transaction("STX_X")
    assert not isinstance(error.value, ProviderUnavailable)
    assert "credentials are invalid" in error.value.message
    assert error.value.code == "invalid_client"
    assert "nope" not in error.value.message


@pytest.mark.anyio
async def test_token_never_shows_in_repr(http):
    tokens = TokenCache(http, f"{SB}/oauth/token", EXAMPLE_CLIENT_ID, EXAMPLE_CLIENT_SECRET)
    token = await tokens.get()
    assert token not in repr(tokens)


@pytest.mark.anyio
@pytest.mark.parametrize("failure", ["timeout", "connect", "503"])
async def test_token_endpoint_down_is_unavailable(failure):
    def handler(request):
        if failure == "timeout":
            raise httpx.ReadTimeout("slow", request=request)
        if failure == "connect":
            raise httpx.ConnectError("refused", request=request)
        return httpx.Response(503, text="down")

    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as http:
        tokens = TokenCache(http, "http://x/oauth/token", "id", "secret")
        with pytest.raises(ProviderUnavailable):
            await tokens.get()


@pytest.mark.anyio
async def test_short_lived_token_keeps_most_of_its_life(http, sandbox):
    sandbox.scenarios.token_lifetime = 10
    clock = Clock()
    tokens = TokenCache(http, f"{SB}/oauth/token", EXAMPLE_CLIENT_ID, EXAMPLE_CLIENT_SECRET, margin=30, clock=clock)
    first = await tokens.get()
    clock.now += 8.9
    assert await tokens.get() == first
    clock.now += 0.2
    assert await tokens.get() != first
