"""The error tree, the status-to-class mapping, and what error messages tell a reader."""

from __future__ import annotations

import copy
import pickle

import pytest

import stytch_totp
from stytch_totp import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    BulkAbortedError,
    ClientClosedError,
    ConflictError,
    InternalServerError,
    InvalidParamsError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    StytchError,
    TransportError,
    UnexpectedResponseError,
)
from stytch_totp._exceptions import status_error_class

#: The tree of the ``_exceptions`` docstring: each class and its direct bases.
TREE: dict[type[Exception], tuple[type[BaseException], ...]] = {
    StytchError: (Exception,),
    InvalidParamsError: (StytchError, ValueError),
    APIConnectionError: (StytchError,),
    APITimeoutError: (APIConnectionError,),
    ClientClosedError: (APIConnectionError,),
    UnexpectedResponseError: (StytchError,),
    BulkAbortedError: (StytchError,),
    APIStatusError: (StytchError,),
    BadRequestError: (APIStatusError,),
    AuthenticationError: (APIStatusError,),
    PermissionDeniedError: (APIStatusError,),
    NotFoundError: (APIStatusError,),
    ConflictError: (APIStatusError,),
    RateLimitError: (APIStatusError,),
    InternalServerError: (APIStatusError,),
}


@pytest.mark.parametrize("error_class", list(TREE), ids=lambda cls: cls.__name__)
def test_each_error_has_exactly_its_documented_bases(error_class: type[Exception]) -> None:
    assert error_class.__bases__ == TREE[error_class]


def test_the_tree_covers_every_exported_exception() -> None:
    exported = {
        obj
        for name in stytch_totp.__all__
        if isinstance(obj := getattr(stytch_totp, name), type) and issubclass(obj, BaseException)
    }
    # TransportError is a transport's report to the client, never raised by a call: outside
    # the tree on purpose (and documented in the same docstring).
    assert exported == {*TREE, TransportError}
    assert not issubclass(TransportError, StytchError)
    assert "TransportError" in (stytch_totp._exceptions.__doc__ or "")


def parents_drawn_in_the_docstring() -> dict[str, str]:
    """``{class name: parent name}`` read from the tree in the ``_exceptions`` docstring."""
    doc = stytch_totp._exceptions.__doc__
    assert doc is not None
    lines = doc.splitlines()
    root_line = next(line for line in lines if line.split()[:1] == ["StytchError"])
    root_column = root_line.index("StytchError")
    parents: dict[str, str] = {}
    path = ["StytchError"]
    for line in lines:
        branch = max(line.find("├──"), line.find("└──"))
        if branch < 0:
            continue
        depth = (branch - root_column) // 4 + 1  # each level is indented by 4 columns
        name = line[branch + 3 :].split()[0]
        del path[depth:]
        parents[name] = path[-1]
        path.append(name)
    return parents


def test_the_docstring_draws_the_real_tree() -> None:
    drawn = parents_drawn_in_the_docstring()
    assert set(drawn) == {cls.__name__ for cls in TREE} - {"StytchError"}
    for name, parent in drawn.items():
        assert getattr(stytch_totp, name).__bases__[0].__name__ == parent, name


def test_one_except_catches_everything() -> None:
    for error_class in TREE:
        assert issubclass(error_class, StytchError)
    assert issubclass(InvalidParamsError, ValueError)
    assert not issubclass(APIStatusError, ValueError)
    assert not issubclass(APITimeoutError, TimeoutError)


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (400, BadRequestError),
        (401, AuthenticationError),
        (403, PermissionDeniedError),
        (404, NotFoundError),
        (409, ConflictError),
        (429, RateLimitError),
        (500, InternalServerError),
        (501, InternalServerError),
        (502, InternalServerError),
        (503, InternalServerError),
        (504, InternalServerError),
        (599, InternalServerError),
        (100, APIStatusError),
        (301, APIStatusError),
        (304, APIStatusError),
        (402, APIStatusError),
        (405, APIStatusError),
        (418, APIStatusError),
        (422, APIStatusError),
        (451, APIStatusError),
    ],
)
def test_status_error_class(status: int, expected: type[APIStatusError]) -> None:
    assert status_error_class(status) is expected


def test_invalid_params_error() -> None:
    error = InvalidParamsError("totp_code", "must be exactly 6 ASCII digits")
    assert error.field == "totp_code"
    assert error.problem == "must be exactly 6 ASCII digits"
    assert str(error) == "totp_code: must be exactly 6 ASCII digits"


def test_status_error_message_has_status_type_operation_and_request_id() -> None:
    error = RateLimitError(
        status_code=429,
        request_id="request-id-test-1",
        error_type="too_many_requests",
        error_message="Too many requests have been made.",
        error_url="https://stytch.com/docs/api/errors/429",
        error_details={"limit": 10},
        operation="totps.authenticate",
        retry_after=3.0,
    )
    assert str(error) == (
        "HTTP 429 too_many_requests: Too many requests have been made."
        " | operation=totps.authenticate | request_id=request-id-test-1"
    )
    assert error.error_url == "https://stytch.com/docs/api/errors/429"
    assert error.error_details == {"limit": 10}
    assert error.retry_after == 3.0


def test_status_error_message_without_an_envelope() -> None:
    error = InternalServerError(status_code=502)
    assert str(error) == "HTTP 502 http_error: no error message in the response"
    assert error.request_id is None
    assert error.error_type is None
    assert error.error_message is None
    assert error.error_url is None
    assert error.error_details == {}
    assert error.operation == ""
    assert error.retry_after is None


def test_unexpected_response_message() -> None:
    error = UnexpectedResponseError(
        "required field missing",
        operation="totps.create",
        status_code=200,
        request_id="request-id-test-2",
        path="$.user.user_id",
    )
    assert str(error) == (
        "unexpected response to totps.create (HTTP 200, request_id=request-id-test-2)"
        " at $.user.user_id: required field missing"
    )
    assert (error.reason, error.operation, error.status_code) == (
        "required field missing",
        "totps.create",
        200,
    )
    bare = UnexpectedResponseError(
        "the body is not valid JSON (3 bytes)", operation="x", status_code=201
    )
    assert str(bare) == "unexpected response to x (HTTP 201): the body is not valid JSON (3 bytes)"
    assert bare.request_id is None
    assert bare.path is None


def test_connection_errors_say_whether_the_request_may_have_been_processed() -> None:
    refused = APIConnectionError(
        "could not connect to test.stytch.com:443 (ConnectionRefusedError)",
        operation="totps.recover",
        attempts=3,
        may_have_been_processed=False,
    )
    assert str(refused) == (
        "could not connect to test.stytch.com:443 (ConnectionRefusedError)"
        " | operation=totps.recover"
    )
    assert (refused.operation, refused.attempts, refused.may_have_been_processed) == (
        "totps.recover",
        3,
        False,
    )
    # By default, assume the worst: a code sent may be spent.
    timeout = APITimeoutError("timed out")
    assert str(timeout) == "timed out"
    assert timeout.may_have_been_processed is True
    assert timeout.attempts == 1
    closed = ClientClosedError("the client is closed", operation="totps.create")
    assert isinstance(closed, APIConnectionError)
    assert closed.operation == "totps.create"


def sample_errors() -> list[StytchError]:
    return [
        StytchError("root"),
        InvalidParamsError("totp_code", "must be exactly 6 ASCII digits"),
        APIConnectionError("reset", operation="totps.create", attempts=2),
        APITimeoutError("timed out", operation="totps.recover", may_have_been_processed=False),
        ClientClosedError("closed"),
        UnexpectedResponseError(
            "required field missing", operation="o", status_code=200, path="$.x"
        ),
        APIStatusError(status_code=418, operation="totps.create"),
        RateLimitError(
            status_code=429,
            request_id="request-id-1",
            error_type="too_many_requests",
            error_message="slow down",
            error_url="https://stytch.com/docs/api/errors/429",
            error_details={"limit": 10},
            operation="totps.authenticate",
            retry_after=1.5,
        ),
    ]


@pytest.mark.parametrize("error", sample_errors(), ids=lambda error: type(error).__name__)
def test_errors_survive_pickle_and_copy(error: StytchError) -> None:
    # Needed to cross a process boundary (ProcessPoolExecutor, multiprocessing) or be copied.
    error.add_note("a note added by the caller")
    pickled = pickle.loads(pickle.dumps(error))  # noqa: S301 - our own bytes
    for clone in (pickled, copy.copy(error), copy.deepcopy(error)):
        assert type(clone) is type(error)
        assert str(clone) == str(error)
        assert clone.args == error.args
        assert vars(clone) == vars(error)
