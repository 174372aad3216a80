"""The arguments of one call, as the caller wrote them, bound and checked before anything is sent.

Every operation takes either a params object or its fields as keyword arguments, plus the
per-call options of :class:`RequestOptions`. :func:`bind_call` turns them into the params object
(whose class declares and validates each field, once) and a :class:`CallOptions`. Every mistake
is an :class:`InvalidParamsError` naming the argument; values are never quoted, since any of them
may be a secret.
"""

import re
from collections.abc import Mapping
from typing import Any, Final, TypedDict, TypeVar

import attrs

from .._exceptions import InvalidParamsError
from .params_builder import builder_of
from .retry import RetryPolicy
from .timeouts import Timeout, resolve_timeout

__all__ = ["OPTION_NAMES", "CallOptions", "RequestOptions", "bind_call"]

P = TypeVar("P")


class RequestOptions(TypedDict, total=False):
    """The per-call options every operation takes beside its fields (all optional)."""

    timeout: float | Timeout | None
    """This call's timeout per attempt: seconds, or a :class:`Timeout` (default: the client's)."""
    retry: RetryPolicy | None
    """This call's :class:`RetryPolicy` (default: the client's)."""
    extra_body: Mapping[str, Any] | None
    """Fields to add to the JSON body as given, for what the SDK does not know yet. They win
    over the params' own fields of the same name, are sent but never logged or shown."""
    extra_headers: Mapping[str, str] | None
    """Headers to add to the request (not ``Authorization``, ``Host``, ``Content-Length``,
    ``Content-Type`` or ``Transfer-Encoding``); values are sent but never logged or shown."""


OPTION_NAMES: Final = frozenset(RequestOptions.__annotations__)

# The client owns these: credentials, and the framing of the body it encodes.
_RESERVED_HEADERS: Final = frozenset(
    {"authorization", "host", "content-length", "content-type", "transfer-encoding"}
)
# RFC 9110 token characters.
_HEADER_NAME: Final = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
# Visible ASCII, space and tab: anything else would be rejected on the wire, or worse, split it.
_HEADER_VALUE: Final = re.compile(r"[\t\x20-\x7e]*")


@attrs.frozen
class CallOptions:
    """The checked per-call options (``None``: use the client's)."""

    timeout: Timeout | None = None
    retry: RetryPolicy | None = None
    extra_body: Mapping[str, Any] | None = attrs.field(default=None, repr=False)
    extra_headers: tuple[tuple[str, str], ...] = attrs.field(default=(), repr=False)


NO_OPTIONS: Final = CallOptions()


def _extra_body(value: object) -> Mapping[str, Any] | None:
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise InvalidParamsError("extra_body", f"must be a mapping, not {type(value).__name__}")
    for key in value:
        if not isinstance(key, str):
            raise InvalidParamsError("extra_body", f"keys must be str, not {type(key).__name__}")
    return dict(value)


def _extra_headers(value: object) -> tuple[tuple[str, str], ...]:
    if value is None:
        return ()
    if not isinstance(value, Mapping):
        raise InvalidParamsError("extra_headers", f"must be a mapping, not {type(value).__name__}")
    headers = []
    for name, header_value in value.items():
        if not isinstance(name, str) or _HEADER_NAME.fullmatch(name) is None:
            raise InvalidParamsError("extra_headers", "a header name is not a valid HTTP token")
        field = f"extra_headers[{name!r}]"
        if name.lower() in _RESERVED_HEADERS:
            raise InvalidParamsError(field, "is set by the client and cannot be overridden")
        if not isinstance(header_value, str):
            raise InvalidParamsError(field, f"must be a str, not {type(header_value).__name__}")
        if _HEADER_VALUE.fullmatch(header_value) is None:
            raise InvalidParamsError(field, "must be printable ASCII (no line breaks)")
        headers.append((name, header_value))
    return tuple(headers)


def _options(kwargs: dict[str, Any]) -> CallOptions:
    timeout = kwargs.pop("timeout", None)
    retry = kwargs.pop("retry", None)
    extra_body = kwargs.pop("extra_body", None)
    extra_headers = kwargs.pop("extra_headers", None)
    if timeout is None and retry is None and extra_body is None and extra_headers is None:
        return NO_OPTIONS
    if retry is not None and not isinstance(retry, RetryPolicy):
        raise InvalidParamsError("retry", f"must be a RetryPolicy, not {type(retry).__name__}")
    return CallOptions(
        timeout=None if timeout is None else resolve_timeout(timeout),
        retry=retry,
        extra_body=_extra_body(extra_body),
        extra_headers=_extra_headers(extra_headers),
    )


class _Binding:
    """What binding a call of one params class needs, looked up once per class."""

    __slots__ = ("build", "names", "required")

    def __init__(self, params_type: type[Any]) -> None:
        fields = attrs.fields(params_type)
        self.names = frozenset(field.name for field in fields)
        self.required = tuple(field.name for field in fields if field.default is attrs.NOTHING)
        self.build = builder_of(params_type)


_BINDINGS: dict[type[Any], _Binding] = {}


def bind_call(
    params_type: type[P], params: object, kwargs: dict[str, Any]
) -> tuple[P, CallOptions]:
    """The params object and the options of one call.

    ``params`` is the positional params object, or ``None`` when the fields came as keywords in
    ``kwargs`` (which this function empties: nothing the caller passed outlives the binding).
    """
    # Most calls pass no option: checking that allocates nothing.
    options = NO_OPTIONS if OPTION_NAMES.isdisjoint(kwargs) else _options(kwargs)
    binding = _BINDINGS.get(params_type)
    if binding is None:
        binding = _BINDINGS[params_type] = _Binding(params_type)
    if not binding.names.issuperset(kwargs):
        name = sorted(kwargs.keys() - binding.names)[0]
        raise InvalidParamsError(name, f"is not a field of {params_type.__name__}")
    if params is not None:
        if not isinstance(params, params_type):
            raise InvalidParamsError(
                "params", f"must be a {params_type.__name__}, not {type(params).__name__}"
            )
        if kwargs:
            raise InvalidParamsError(
                sorted(kwargs)[0],
                f"pass either a {params_type.__name__} or keyword arguments, not both",
            )
        return params, options
    for name in binding.required:
        if kwargs.get(name) is None:
            raise InvalidParamsError(name, f"is required (or pass a {params_type.__name__})")
    try:
        # ``None`` is every optional field's default, so keywords passed as ``None`` go through.
        built = binding.build(kwargs)
    finally:
        kwargs.clear()
    return built, options
