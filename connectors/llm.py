"""LLM providers as LangChain chat models: construction from settings, usage accounting, failures.

``build_chat_model(settings)`` returns a ``BaseChatModel`` for ``llm.provider`` through LangChain's
``init_chat_model``. Only ``langchain-openai`` is a dependency of Sherlog (providers ``openai``,
``azure_openai`` and ``openai_compatible``); the others are optional extras, and choosing one whose
package is missing is a ``ConfigError`` that names the extra to install.

``UsageMeter`` is a LangChain callback handler: pass it in ``config={"callbacks": [meter]}`` and it
adds up the tokens each call reports (``AIMessage.usage_metadata``), the number of calls and their
latency; ``cost_usd`` prices them with ``llm.price_per_1k_input/output``.

``failure_reason(error)`` turns a provider SDK's exception (timeouts, HTTP statuses, transport
errors) into the one-line ``LLMError`` a user sees; SDKs differ, so it reads the error's shape, not
its class.
"""

from __future__ import annotations

import importlib
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from langchain.chat_models import init_chat_model
from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGeneration, LLMResult

from bot.domain.errors import ConfigError, LLMError
from config.settings import LLMSettings

log = logging.getLogger(__name__)

OPENAI_DEFAULT_URL = "https://api.openai.com/v1"


@dataclass(frozen=True)
class Provider:
    """How one ``llm.provider`` value is built: LangChain's provider name, its package, our extra."""

    langchain_name: str
    module: str
    package: str
    extra: str | None  # None: installed with Sherlog
    json_mode: bool  # accepts response_format={"type": "json_object"}
    arguments: Callable[[LLMSettings], dict[str, Any]]


def _secret(settings: LLMSettings) -> str | None:
    return settings.api_key.get_secret_value() if settings.api_key else None


def _common(settings: LLMSettings) -> dict[str, Any]:
    return {"model": settings.model, "temperature": settings.temperature, "max_tokens": settings.max_tokens,
            "timeout": settings.timeout_s, "max_retries": settings.max_retries}


def _openai(settings: LLMSettings) -> dict[str, Any]:
    return {**_common(settings), "base_url": settings.base_url, "api_key": _secret(settings) or "not-needed"}


def _azure(settings: LLMSettings) -> dict[str, Any]:
    if not settings.api_version:
        raise ConfigError("llm.provider azure_openai needs llm.api_version (SHERLOG__LLM__API_VERSION), "
                          "e.g. 2024-10-21")
    if settings.base_url.rstrip("/") == OPENAI_DEFAULT_URL:
        raise ConfigError("llm.provider azure_openai needs llm.base_url set to the resource's endpoint "
                          "(https://<resource>.openai.azure.com)")
    return {**_common(settings), "azure_endpoint": settings.base_url, "azure_deployment": settings.model,
            "api_version": settings.api_version, "api_key": _secret(settings)}


def _anthropic(settings: LLMSettings) -> dict[str, Any]:
    out = {**_common(settings), "api_key": _secret(settings)}
    if settings.base_url.rstrip("/") != OPENAI_DEFAULT_URL:
        out["base_url"] = settings.base_url
    return out


def _bedrock(settings: LLMSettings) -> dict[str, Any]:
    from botocore.config import Config  # installed with langchain-aws

    return {"model": settings.model, "temperature": settings.temperature, "max_tokens": settings.max_tokens,
            "region_name": settings.region,
            "config": Config(read_timeout=settings.timeout_s, connect_timeout=min(10.0, settings.timeout_s),
                             retries={"max_attempts": settings.max_retries + 1, "mode": "standard"})}


def _vertex(settings: LLMSettings) -> dict[str, Any]:
    return {**_common(settings), "project": settings.project, "location": settings.region}


def _ollama(settings: LLMSettings) -> dict[str, Any]:
    url = settings.base_url.rstrip("/")
    if url == OPENAI_DEFAULT_URL:
        url = "http://127.0.0.1:11434"
    return {"model": settings.model, "temperature": settings.temperature, "num_predict": settings.max_tokens,
            "base_url": url.removesuffix("/v1"), "client_kwargs": {"timeout": settings.timeout_s}}


PROVIDERS: dict[str, Provider] = {
    "openai": Provider("openai", "langchain_openai", "langchain-openai", None, True, _openai),
    "openai_compatible": Provider("openai", "langchain_openai", "langchain-openai", None, True, _openai),
    "azure_openai": Provider("azure_openai", "langchain_openai", "langchain-openai", None, True, _azure),
    "anthropic": Provider("anthropic", "langchain_anthropic", "langchain-anthropic", "anthropic", False, _anthropic),
    "bedrock": Provider("bedrock_converse", "langchain_aws", "langchain-aws", "bedrock", False, _bedrock),
    "google_vertexai": Provider("google_vertexai", "langchain_google_vertexai", "langchain-google-vertexai",
                                "vertexai", False, _vertex),
    "ollama": Provider("ollama", "langchain_ollama", "langchain-ollama", "ollama", False, _ollama),
}


def provider_of(settings: LLMSettings) -> Provider:
    try:
        return PROVIDERS[settings.provider]
    except KeyError as e:
        raise ConfigError(f"llm.provider {settings.provider!r} is not one of {', '.join(PROVIDERS)}") from e


def build_chat_model(settings: LLMSettings) -> BaseChatModel:
    """The configured provider's chat model; ``ConfigError`` when its package is missing or a setting is."""
    provider = provider_of(settings)
    try:
        importlib.import_module(provider.module)
    except ImportError as e:
        how = f"pip install 'sherlog[{provider.extra}]'" if provider.extra else f"pip install {provider.package}"
        raise ConfigError(f"llm.provider {settings.provider!r} needs the {provider.package} package, which is "
                          f"not installed: {how}") from e
    if settings.provider == "openai_compatible" and settings.base_url.rstrip("/") == OPENAI_DEFAULT_URL:
        raise ConfigError("llm.provider openai_compatible needs llm.base_url (SHERLOG__LLM__BASE_URL), "
                          "e.g. http://vllm:8000/v1")
    kwargs = {k: v for k, v in provider.arguments(settings).items() if v is not None}
    model = kwargs.pop("model")
    try:
        return init_chat_model(model, model_provider=provider.langchain_name, **kwargs)
    except (ValueError, TypeError) as e:  # pydantic validation of the provider's own settings
        raise ConfigError(f"llm.provider {settings.provider!r} rejected the settings: "
                          f"{str(e).splitlines()[0][:300]}") from e


def json_mode_arguments(settings: LLMSettings) -> dict[str, Any]:
    """Call arguments asking for one JSON object, where the provider's API has such a switch."""
    return {"response_format": {"type": "json_object"}} if provider_of(settings).json_mode else {}


class UsageMeter(BaseCallbackHandler):
    """Tokens, calls and latency of every chat-model call made with this handler in its callbacks."""

    def __init__(self) -> None:
        super().__init__()
        self._lock = threading.Lock()
        self._started: dict[UUID, float] = {}
        self.calls = 0
        self.input_tokens = 0
        self.output_tokens = 0
        self.latency_ms = 0.0

    @property
    def total_tokens(self) -> int:
        return self.input_tokens + self.output_tokens

    def cost_usd(self, settings: LLMSettings) -> float:
        return round(self.input_tokens / 1000 * settings.price_per_1k_input
                     + self.output_tokens / 1000 * settings.price_per_1k_output, 6)

    def as_dict(self, settings: LLMSettings) -> dict[str, Any]:
        return {"calls": self.calls, "prompt_tokens": self.input_tokens, "completion_tokens": self.output_tokens,
                "cost_usd": self.cost_usd(settings), "latency_ms": round(self.latency_ms, 1)}

    def on_chat_model_start(self, serialized: dict[str, Any], messages: list[list[BaseMessage]], *,
                            run_id: UUID, **kwargs: Any) -> None:
        with self._lock:
            self._started[run_id] = time.perf_counter()

    def _finish(self, run_id: UUID) -> None:
        started = self._started.pop(run_id, None)
        self.calls += 1
        if started is not None:
            self.latency_ms += (time.perf_counter() - started) * 1000

    def on_llm_end(self, response: LLMResult, *, run_id: UUID, **kwargs: Any) -> None:
        with self._lock:
            self._finish(run_id)
            for generations in response.generations:
                for generation in generations:
                    message = generation.message if isinstance(generation, ChatGeneration) else None
                    usage = message.usage_metadata if isinstance(message, AIMessage) else None
                    if usage:
                        self.input_tokens += int(usage.get("input_tokens", 0) or 0)
                        self.output_tokens += int(usage.get("output_tokens", 0) or 0)

    def on_llm_error(self, error: BaseException, *, run_id: UUID, **kwargs: Any) -> None:
        with self._lock:
            self._finish(run_id)


def invoke_chat(model: Any, messages: list[BaseMessage], *, meter: UsageMeter, settings: LLMSettings,
                **kwargs: Any) -> AIMessage:
    """One chat-model call with usage accounting; a provider failure becomes ``LLMError``."""
    try:
        reply = model.invoke(messages, config={"callbacks": [meter]}, **kwargs)
    except LLMError:
        raise
    except Exception as e:  # noqa: BLE001 - every provider SDK raises its own errors
        raise failure_reason(e, timeout_s=settings.timeout_s) from e
    if not isinstance(reply, AIMessage):
        raise LLMError("the LLM returned something else than a chat message")
    return reply


def failure_reason(error: BaseException, *, timeout_s: float) -> LLMError:
    """A user-facing ``LLMError`` for a provider SDK's exception (read by shape: SDKs differ)."""
    if isinstance(error, LLMError):
        return error
    name = error.__class__.__name__
    status = getattr(error, "status_code", None)
    if status is None:
        status = getattr(getattr(error, "response", None), "status_code", None)
    if "timeout" in name.lower() or isinstance(error, TimeoutError):
        return LLMError(f"the LLM did not answer within {timeout_s:g} s")
    if isinstance(status, int):
        return LLMError(f"the LLM endpoint answered HTTP {status}")
    return LLMError(f"the LLM endpoint could not be reached: {name}")
