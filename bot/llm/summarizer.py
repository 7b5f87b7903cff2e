"""The OpenAI adapter behind the digests' summarizer port (handlers/digests/summarizer.py):
any OpenAI-compatible chat completions endpoint.

Retries: the openai client's own retries are off (`max_retries=0`) and one tenacity
policy decides instead — timeouts, connection errors, 429 (waiting as long as
Retry-After says) and 5xx are retried, a bounded number of attempts within a bounded
total time (20 s by default). A Retry-After longer than the wait cap or than the time
left stops at once ("rate limited"). Anything else, or an answer that does not parse,
is a `SummaryFailed`, and the digest falls back to the deterministic summary. When the
model gave no answer at all (timeouts, unreachable, an HTTP error after the retries),
a circuit breaker (bot/llm/breaker.py) skips it for a cool-down (5 minutes): kept in the
database when bot/app.py builds the adapter, so every process and CLI run falls back at
once instead of each waiting out the bound, and the digest says since when and why.
"""

from __future__ import annotations

import asyncio
import logging
import random
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import openai
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception,
    stop_after_attempt,
    stop_after_delay,
)
from tenacity.stop import stop_base

from bot.core.metrics import LLM_CALLS
from bot.llm.breaker import Breaker, SharedBreaker, local_breaker
from bot.settings import Settings
from handlers.digests.summarizer import (
    PROMPT,
    SummaryFailed,
    SummaryOutput,
    SummaryRequest,
    SummarySkipped,
    parse_output,
    render_prompt,
)
from prompts.templates import load_template
from scheduler.calendar.clock import Clock
from storage.core.db import Database

log = logging.getLogger(__name__)

_RETRY_STATUSES = {408, 409, 429}


def _transient(error: BaseException) -> bool:
    if isinstance(error, openai.APIConnectionError):  # includes APITimeoutError
        return True
    if isinstance(error, openai.APIStatusError):
        return error.status_code in _RETRY_STATUSES or error.status_code >= 500
    return False


def retry_after(error: BaseException | None) -> float | None:
    """Seconds the server asked us to wait (Retry-After: seconds or an HTTP date)."""
    if not isinstance(error, openai.APIStatusError):
        return None
    headers = error.response.headers
    if (ms := headers.get("retry-after-ms")) is not None:
        try:
            return max(float(ms) / 1000, 0.0)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        return max((parsedate_to_datetime(value) - datetime.now(UTC)).total_seconds(), 0.0)
    except (TypeError, ValueError):
        return None


class _Wait:
    """Retry-After when the server gives one (capped), else exponential backoff with jitter."""

    def __init__(self, initial: float, cap: float) -> None:
        self.initial = initial
        self.cap = cap

    def __call__(self, state: RetryCallState) -> float:
        error = state.outcome.exception() if state.outcome else None
        asked = retry_after(error)
        if asked is not None:
            return min(asked, self.cap)
        backoff = self.initial * 2 ** (state.attempt_number - 1)
        return min(backoff + random.uniform(0, self.initial), self.cap)


class _AskedTooLong(stop_base):
    """Stop at once when the server asks for a longer wait than the cap or than the time
    left in the total bound: retrying early would only be refused again."""

    def __init__(self, cap: float, total: float) -> None:
        self.cap = cap
        self.total = total

    def __call__(self, state: RetryCallState) -> bool:
        asked = retry_after(state.outcome.exception() if state.outcome else None)
        if asked is None:
            return False
        left = self.total - (state.seconds_since_start or 0.0)
        return asked > self.cap or asked > left


class OpenAISummarizer:
    """Summaries from any OpenAI-compatible chat completions endpoint."""

    def __init__(
        self,
        *,
        model: str,
        api_key: str | None = None,
        base_url: str | None = None,
        timeout: float = 10.0,
        attempts: int = 3,
        total_seconds: float = 20.0,
        initial_wait: float = 1.0,
        max_wait: float = 20.0,
        cooldown: float = 300.0,
        breaker: Breaker | None = None,
    ) -> None:
        self.model = model
        self.template = load_template(*PROMPT)
        self.prompt_version = self.template.id
        self.attempts = attempts
        self.total_seconds = total_seconds
        self.wait = _Wait(initial_wait, max_wait)
        self.asked_too_long = _AskedTooLong(max_wait, total_seconds)
        # A local server needs no key, but the client insists on one.
        self.client = openai.AsyncOpenAI(
            api_key=api_key or "not-needed",
            base_url=base_url,
            max_retries=0,
            timeout=timeout,
        )
        self.breaker = breaker or local_breaker(str(self.client.base_url), model, cooldown)

    async def complete(self, request: SummaryRequest) -> SummaryOutput:
        try:
            await self.breaker.check()
        except SummarySkipped:
            LLM_CALLS.labels("skipped").inc()
            raise
        try:
            response = await self._create(request)
        except SummaryFailed as failed:
            LLM_CALLS.labels("failed").inc()
            await self.breaker.trip(str(failed))
            raise
        await self.breaker.reset()
        choice = response.choices[0] if response.choices else None
        try:
            if choice is None:
                raise SummaryFailed("the language model gave no answer")
            output = parse_output(choice.message.content)
        except SummaryFailed:
            LLM_CALLS.labels("unusable").inc()
            raise
        LLM_CALLS.labels("ok").inc()
        return output

    async def _create(self, request: SummaryRequest) -> Any:
        """The model's response; a `SummaryFailed` when it gave none in time."""
        system, user = render_prompt(self.template, request)
        retrying = AsyncRetrying(
            stop=stop_after_attempt(self.attempts)
            | stop_after_delay(self.total_seconds)
            | self.asked_too_long,
            wait=self.wait,
            retry=retry_if_exception(_transient),
            reraise=True,
        )
        try:
            # stop_after_delay only looks between attempts; this bounds the whole call.
            async with asyncio.timeout(self.total_seconds):
                async for attempt in retrying:
                    with attempt:
                        return await self.client.chat.completions.create(
                            model=self.model,
                            messages=[
                                {"role": "system", "content": system},
                                {"role": "user", "content": user},
                            ],
                            temperature=0.2,
                            max_tokens=900,
                            response_format={"type": "json_object"},
                        )
        except TimeoutError:
            raise SummaryFailed(
                f"the language model did not answer within {self.total_seconds:g} s"
            ) from None
        except openai.APITimeoutError:
            raise SummaryFailed("the language model timed out") from None
        except openai.APIConnectionError:
            raise SummaryFailed("the language model could not be reached") from None
        except openai.APIStatusError as error:
            asked = retry_after(error)
            if error.status_code == 429:
                wait = f", asked to wait {asked:.0f} s" if asked is not None else ""
                raise SummaryFailed(
                    f"the language model is rate limited (HTTP 429{wait})"
                ) from None
            raise SummaryFailed(f"the language model answered HTTP {error.status_code}") from None
        raise SummaryFailed("the language model gave no answer")  # pragma: no cover

    async def aclose(self) -> None:
        await self.client.close()


def summarizer_from_settings(
    settings: Settings, db: Database, clock: Clock, **options: Any
) -> OpenAISummarizer | None:
    """The configured summarizer with the breaker every process shares, or None when
    no LLM is configured (fallback only). `options`: the adapter's bounds (tests)."""
    if not settings.llm_enabled:
        return None
    key = settings.openai_api_key.get_secret_value() if settings.openai_api_key else None
    base_url = settings.openai_base_url or "https://api.openai.com/v1"
    cooldown = float(options.pop("cooldown", 300.0))
    shared = SharedBreaker(db, clock, f"{base_url}|{settings.llm_model}", cooldown)
    return OpenAISummarizer(
        model=settings.llm_model,
        api_key=key,
        base_url=settings.openai_base_url,
        cooldown=cooldown,
        breaker=shared,
        **options,
    )
