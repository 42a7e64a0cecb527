"""The API's one error shape, ``{"code": ..., "message": ..., "reason": ...}``, and the HTTP
status of each refusal.

``code`` is machine-readable: for a refused upload it is the ``SubmissionRefused.code`` the
upload page sees (``closed``, ``quota``, ``no_data``, or a ``RejectionCode`` of the file's
checks such as ``pickle``), and ``reason`` the ``FailureReason`` it belongs to
(``invalid_artifact`` for every file refusal), so a script can branch on either.
``message`` is the page's own sentence, word for word.
"""

from grading.engine.errors import FailureReason, RejectionCode

# Refusals of the round or the account, not of the file: their HTTP status.
REFUSAL_STATUS = {"closed": 409, "quota": 409, "no_data": 409, "too_large": 413}


class ApiError(Exception):
    """An answer other than success: ``status``, ``code``, ``message`` (for people) and
    optionally ``reason`` and response ``headers`` (``Retry-After``)."""

    def __init__(self, status: int, code: str, message: str, *, reason: str | None = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.reason = reason
        self.headers = headers or {}

    def body(self) -> dict:
        return {"code": self.code, "message": self.message, "reason": self.reason}


def refusal_reason(code: str) -> str | None:
    """The ``FailureReason`` a refusal code belongs to: ``invalid_artifact`` for a file the
    checks refused (every ``RejectionCode``), the reason itself for a reason; None for a
    refusal of the round or the quota."""
    if code in RejectionCode.__members__.values():
        return str(FailureReason.INVALID_ARTIFACT)
    if code in FailureReason.__members__.values():
        return code
    return None


def refusal_status(code: str) -> int:
    return REFUSAL_STATUS.get(code, 422)
