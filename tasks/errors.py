"""postroom's one exception tree; each class says whether a retry can help.

    PostroomError
    ├── TransientError            retryable: network, S3 5xx, a locked database, a DMS 5xx
    ├── PermanentError            not retryable: the letter goes to quarantine
    │   ├── EmptyFileError        zero bytes
    │   ├── UnsupportedTypeError  content is not PDF, TIFF, JPEG or PNG
    │   ├── CorruptFileError      truncated or unreadable
    │   ├── EncryptedFileError    a password-protected PDF
    │   ├── LimitExceededError    too many pages or pixels, too large
    │   └── DmsRejectedError      the HTTP DMS refused the letter (tasks/dms.py)
    └── DisposalRefusedError      a disposal decision that may not be carried out (tasks/dispose.py)

A permanent error names the letter, the step and what an operator can do; `retry_condition` is the
single place that reads the policy, for every task's ``retry_condition_fn``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, ParamSpec, TypeVar

from botocore.exceptions import BotoCoreError, ClientError
from prefect import Task, task
from prefect.cache_policies import NO_CACHE
from sqlalchemy.exc import OperationalError

P = ParamSpec("P")
R = TypeVar("R")


class PostroomError(Exception):
    """Base of every error postroom raises on purpose."""

    retryable = False


class TransientError(PostroomError):
    """A failure that may go away on its own: retry with backoff."""

    retryable = True


class PermanentError(PostroomError):
    """A failure no retry can fix: the letter is quarantined with this message as the reason."""

    def __init__(self, reason: str, *, step: str = "", letter_id: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.step = step
        self.letter_id = letter_id

    def __str__(self) -> str:
        where = " ".join(part for part in (self.letter_id, self.step) if part)
        return f"{where}: {self.reason}" if where else self.reason


class EmptyFileError(PermanentError):
    """The object has no bytes."""


class UnsupportedTypeError(PermanentError):
    """The content is none of the formats a scanner produces."""


class CorruptFileError(PermanentError):
    """The file is truncated or cannot be decoded."""


class EncryptedFileError(PermanentError):
    """The PDF is encrypted."""


class LimitExceededError(PermanentError):
    """The file exceeds a configured limit (pages, pixels, bytes)."""


def is_retryable(exc: BaseException) -> bool:
    """Return whether retrying the operation that raised ``exc`` can help."""
    if isinstance(exc, PostroomError):
        return exc.retryable
    if isinstance(exc, ClientError):
        status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0))
        return status >= 500 or status in {408, 429}
    if isinstance(exc, OperationalError):
        return "locked" in str(exc).lower() or "connection" in str(exc).lower()
    return isinstance(exc, BotoCoreError | ConnectionError | TimeoutError)


def retry_condition(_task: Any, _task_run: Any, state: Any) -> bool:
    """Tell Prefect to retry a failed task run only when its error is retryable."""
    try:
        state.result()
    except Exception as exc:  # the state's own exception, re-raised by Prefect
        return is_retryable(exc)
    return False


def io_task(*, delays: Sequence[float] = (1, 5, 15)) -> Callable[[Callable[P, R]], Task[P, R]]:
    """Make an I/O step a Prefect task, retried with these delays when its error is retryable."""

    def decorate(fn: Callable[P, R]) -> Task[P, R]:
        return task(
            retries=len(delays),
            retry_delay_seconds=list(delays),
            retry_condition_fn=retry_condition,
            cache_policy=NO_CACHE,
        )(fn)

    return decorate
