"""The job state machine: every store applies these transitions, so they are tested once, here."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from imagegen.domain.cursor import decode_cursor, encode_cursor
from imagegen.domain.errors import InvalidRequest
from imagegen.domain.image_format import detect_image_format
from imagegen.domain.models import ALLOWED_TRANSITIONS, JobStatus
from imagegen.domain.validation import parse_status_filter, validate_job_id, validate_prompt
from tests.support.builders import T0, make_generation, make_job


def test_pending_job_is_claimed_once_and_counts_the_attempt() -> None:
    claimed = make_job().claimed(T0, lease_seconds=60)

    assert claimed is not None
    assert (claimed.status, claimed.attempts, claimed.started_at) == (JobStatus.PROCESSING, 1, T0)
    assert claimed.claimed(T0 + timedelta(seconds=59), lease_seconds=60) is None
    reclaimed = claimed.claimed(T0 + timedelta(seconds=60), lease_seconds=60)
    assert reclaimed is not None and reclaimed.attempts == 2


def test_only_a_processing_job_completes_and_it_takes_the_image() -> None:
    job = make_job()
    generation = make_generation(job)
    processing = job.claimed(T0, 60)
    assert processing is not None

    done = processing.completed(generation, T0)

    assert job.completed(generation, T0) is None
    assert done is not None and done.status is JobStatus.COMPLETED
    assert (done.image, done.provider) == (generation.image, generation.provider)
    assert done.without_image().image is None


def test_finished_jobs_neither_fail_nor_cancel() -> None:
    failed = make_job().failed("content_filtered", "flagged", T0)

    assert failed is not None and (failed.error_code, failed.error_message) == ("content_filtered", "flagged")
    assert failed.failed("provider_error", "again", T0) is None
    assert failed.cancelled(T0) is None
    cancelled = make_job().cancelled(T0)
    assert cancelled is not None and cancelled.status is JobStatus.CANCELLED


def test_release_returns_only_processing_jobs_to_pending() -> None:
    processing = make_job().claimed(T0, 60)
    assert processing is not None

    released = processing.released(T0)

    assert released is not None and (released.status, released.started_at) == (JobStatus.PENDING, None)
    assert make_job().released(T0) is None


def test_a_job_given_back_at_a_clean_shutdown_gets_its_attempt_back_and_a_failed_one_keeps_it() -> None:
    twice = make_job().claimed(T0, 60)
    assert twice is not None
    twice = twice.released(T0)
    assert twice is not None
    processing = twice.claimed(T0, 60)
    assert processing is not None and processing.attempts == 2

    given_back = processing.released(T0, attempted=False)
    retried = processing.released(T0)

    assert given_back is not None and given_back.attempts == 1
    assert retried is not None and retried.attempts == 2


def test_the_documented_transition_table_is_exactly_what_the_methods_do() -> None:
    pending = make_job()
    processing = pending.claimed(T0, 60)
    assert processing is not None
    expired = T0 + timedelta(hours=1)
    starts = {
        JobStatus.PENDING: pending,
        JobStatus.PROCESSING: processing,
        JobStatus.COMPLETED: processing.completed(make_generation(pending), T0),
        JobStatus.FAILED: pending.failed("provider_error", "x", T0),
        JobStatus.CANCELLED: pending.cancelled(T0),
    }
    for status, job in starts.items():
        assert job is not None
        results = [
            job.claimed(expired, 60),
            job.completed(make_generation(pending), T0),
            job.failed("provider_error", "x", T0),
            job.cancelled(T0),
            job.released(T0),
        ]
        reached = {result.status for result in results if result is not None} - {status}
        assert reached == ALLOWED_TRANSITIONS[status], status


@given(
    st.datetimes(min_value=datetime(1970, 1, 1), max_value=datetime(9998, 12, 31), timezones=st.just(UTC)),
    st.uuids(),
)
def test_cursor_round_trips(moment: object, job_id: object) -> None:
    assert decode_cursor(encode_cursor(moment, str(job_id))) == (moment, str(job_id))  # type: ignore[arg-type]


@given(st.text(max_size=40))
def test_arbitrary_text_is_refused_with_a_message_or_is_a_real_cursor(text: str) -> None:
    try:
        moment, job_id = decode_cursor(text)
    except InvalidRequest as refused:
        assert "cursor" in str(refused)
    else:
        assert decode_cursor(encode_cursor(moment, job_id)) == (moment, job_id)


@given(st.one_of(st.text(max_size=40), st.uuids().map(str)))
def test_arbitrary_text_is_refused_with_a_message_or_is_a_real_job_id(text: str) -> None:
    try:
        job_id = validate_job_id(text)
    except InvalidRequest as refused:
        assert "malformed" in str(refused) and "UUID" in str(refused)
    else:
        assert str(uuid.UUID(job_id)) == job_id


@given(st.text(min_size=1, max_size=2048).filter(lambda text: text.strip()))
def test_any_non_blank_prompt_within_the_limit_is_accepted(prompt: str) -> None:
    assert validate_prompt(prompt) == prompt


def test_status_filter_accepts_all_and_every_status() -> None:
    assert parse_status_filter("all") is None
    assert parse_status_filter("cancelled") == frozenset({JobStatus.CANCELLED})


@pytest.mark.parametrize(
    ("data", "content_type"),
    [
        (b"\x89PNG\r\n\x1a\n....", "image/png"),
        (b"\xff\xd8\xff\xe0....", "image/jpeg"),
        (b"RIFF\x00\x00\x00\x00WEBPVP8 ", "image/webp"),
    ],
)
def test_image_format_comes_from_magic_bytes(data: bytes, content_type: str) -> None:
    detected = detect_image_format(data)
    assert detected is not None and detected.content_type == content_type


def test_html_is_not_an_image() -> None:
    assert detect_image_format(b"<html>oops</html>") is None


def test_a_job_remembers_when_it_first_started_while_leases_follow_the_latest_claim() -> None:
    first = make_job().claimed(T0, 60)
    assert first is not None
    released = first.released(T0 + timedelta(seconds=5))
    assert released is not None

    again = released.claimed(T0 + timedelta(seconds=10), 60)

    assert again is not None
    assert (again.first_started_at, again.started_at) == (T0, T0 + timedelta(seconds=10))
    assert again.tries_summary(T0 + timedelta(seconds=16)) == "This job was tried 2 times over 16.0 s."
    assert first.tries_summary(T0) == ""


def test_a_job_costs_its_estimate_only_when_a_paid_provider_ran_it() -> None:
    priced = make_job().model_copy(update={"estimated_cost_usd": 0.0006})
    started = priced.claimed(T0, 60)
    assert started is not None

    assert priced.cost_usd == 0.0  # never ran (cancelled or refused before it started)
    assert started.model_copy(update={"provider": "workers-ai"}).cost_usd == 0.0006
    assert started.model_copy(update={"provider": "preview"}).cost_usd == 0.0
