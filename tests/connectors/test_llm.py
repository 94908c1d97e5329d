"""LLM providers as LangChain chat models: construction per provider, the missing-extra error, retries,
and the usage meter, against the local OpenAI-compatible stand-in."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator

import httpx
import pytest
from langchain_core.messages import HumanMessage

from bot.domain import ConfigError, LLMError
from config.settings import LLMSettings
from connectors.llm import PROVIDERS, UsageMeter, build_chat_model, failure_reason, invoke_chat
from tests.fakes.openai_api import FakeOpenAI, Reply


@pytest.fixture
def fake() -> Iterator[FakeOpenAI]:
    with FakeOpenAI(default=Reply(content='{"ok": true}', prompt_tokens=100, completion_tokens=10)) as server:
        yield server


def ask(conf: LLMSettings) -> tuple[str, UsageMeter]:
    meter = UsageMeter()
    reply = invoke_chat(build_chat_model(conf), [HumanMessage(content="hi")], meter=meter, settings=conf)
    return reply.text, meter


def test_openai_compatible_endpoint_with_key_model_and_limits(fake: FakeOpenAI) -> None:
    conf = LLMSettings(provider="openai_compatible", base_url=fake.base_url, model="qwen2.5-7b-instruct",
                       api_key="sk-local-000000000000000000", max_tokens=333, temperature=0.2,
                       price_per_1k_input=1.0, price_per_1k_output=2.0)
    text, meter = ask(conf)
    assert json.loads(text) == {"ok": True}
    body = fake.requests[-1]
    assert body["model"] == "qwen2.5-7b-instruct" and body["max_completion_tokens"] == 333 and body["temperature"] == 0.2
    assert fake.headers[-1]["authorization"] == "Bearer sk-local-000000000000000000"
    assert (meter.calls, meter.input_tokens, meter.output_tokens) == (1, 100, 10)
    assert meter.cost_usd(conf) == pytest.approx(0.1 + 0.02) and meter.latency_ms > 0


def test_azure_openai_calls_the_deployment_with_the_api_version(fake: FakeOpenAI) -> None:
    root = fake.base_url.removesuffix("/v1")
    conf = LLMSettings(provider="azure_openai", base_url=root, model="sherlog-gpt4o", api_version="2024-10-21",
                       api_key="azure-key-123")
    text, _ = ask(conf)
    assert json.loads(text) == {"ok": True}
    assert fake.paths[-1] == "/openai/deployments/sherlog-gpt4o/chat/completions?api-version=2024-10-21"
    assert fake.headers[-1]["api-key"] == "azure-key-123"


def test_retries_come_from_the_settings(fake: FakeOpenAI) -> None:
    fake.queue(Reply(status=500), Reply(content='{"second": true}'))
    text, _ = ask(LLMSettings(provider="openai_compatible", base_url=fake.base_url, max_retries=1))
    assert json.loads(text) == {"second": True} and len(fake.requests) == 2
    fake.queue(Reply(status=500))
    with pytest.raises(LLMError, match="answered HTTP 500"):
        ask(LLMSettings(provider="openai_compatible", base_url=fake.base_url, max_retries=0))


@pytest.mark.parametrize("provider", [name for name, p in PROVIDERS.items() if p.extra])
def test_a_provider_without_its_package_names_the_extra(provider: str, monkeypatch: pytest.MonkeyPatch) -> None:
    spec = PROVIDERS[provider]
    monkeypatch.setitem(sys.modules, spec.module, None)  # as if the extra were not installed
    with pytest.raises(ConfigError) as err:
        build_chat_model(LLMSettings(provider=provider, model="m"))  # type: ignore[arg-type]
    assert f"pip install 'sherlog[{spec.extra}]'" in str(err.value) and spec.package in str(err.value)


@pytest.mark.parametrize("settings,message", [
    (LLMSettings(provider="openai_compatible"), "needs llm.base_url"),
    (LLMSettings(provider="azure_openai", base_url="https://x.openai.azure.com"), "needs llm.api_version"),
    (LLMSettings(provider="azure_openai", api_version="2024-10-21"), "resource's endpoint"),
])
def test_incomplete_provider_settings_are_config_errors(settings: LLMSettings, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        build_chat_model(settings)


def test_an_unknown_provider_is_rejected_by_the_settings() -> None:
    with pytest.raises(ValueError, match="provider"):
        LLMSettings(provider="watson")  # type: ignore[arg-type]


@pytest.mark.parametrize("error,message", [
    (httpx.ReadTimeout("slow"), "did not answer within 7 s"),
    (TimeoutError(), "did not answer within 7 s"),
    (type("APIStatusError", (Exception,), {"status_code": 429})(), "answered HTTP 429"),
    (httpx.ConnectError("refused"), "could not be reached: ConnectError"),
])
def test_failure_reasons_read_the_error_shape(error: Exception, message: str) -> None:
    assert message in str(failure_reason(error, timeout_s=7))
