"""The OpenAPI schema documents every answer the API gives, refusals included.

drf-spectacular documents the success of each operation; the refusals every operation can give come from
the shared pieces (authentication, the permission classes, pagination and filters, the exception handler in
``coordinator.core.drf``), so they are added here once, for every operation, with their bodies:

- 400 for input the operation takes (a body, filters, pagination): field messages;
- 401 without credentials, 403 without the right (an endpoint open to anyone documents neither);
- 404 for an object in the path that is missing or another programme's, and for a page past the last;
- 409 for a write refused because the state changed under the caller (``Conflict``);
- 415 for a body in a format the operation does not read, 429 when throttled.

An operation's own ``extend_schema(responses=...)`` entry for a code wins over these.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

from drf_spectacular.drainage import has_override
from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from drf_spectacular.plumbing import ResolvedComponent, append_meta
from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers
from rest_framework.permissions import AllowAny


class ErrorDetailSerializer(serializers.Serializer):  # type: ignore[type-arg]
    """A refusal with one message: not signed in, not allowed, not found, throttled."""

    detail = serializers.CharField()


DETAIL = {
    "type": "object",
    "properties": {"detail": {"type": "string"}},
    "required": ["detail"],
}
# A serializer's or a service's field messages ({"field": ["message", ...], "non_field_errors": [...]},
# nested for nested input), or a list of messages when the refusal concerns no one field.
FIELD_ERRORS = {
    "oneOf": [
        {"type": "object", "additionalProperties": True},
        {"type": "array", "items": {"type": "string"}},
    ]
}
# A Conflict's messages, or the generic conflict of a database refusal.
CONFLICT = {"oneOf": [{"type": "array", "items": {"type": "string"}}, DETAIL]}

WRITES = {"POST", "PUT", "PATCH", "DELETE"}

# A time of day as the API writes and reads it: local wall-clock time in the programme's zone, without an
# offset ("09:00:00"). OpenAPI's "time" format is RFC 3339's full-time, which requires an offset.
LOCAL_TIME = {
    "type": "string",
    "pattern": r"^([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\.[0-9]{1,6})?)?$",
    "example": "09:00:00",
}

_Responses = dict[str, dict[str, object]]


class AutoSchema(SpectacularAutoSchema):
    def _component(self, name: str, schema: Mapping[str, object]) -> dict[str, str]:
        component = ResolvedComponent(  # type: ignore[no-untyped-call]
            name=name, type=ResolvedComponent.SCHEMA, schema=schema, object=name
        )
        self.registry.register_on_missing(component)
        return component.ref  # type: ignore[no-any-return]

    def _error_responses(self) -> dict[str, OpenApiResponse]:
        detail = ErrorDetailSerializer
        field_errors = self._component("FieldErrors", FIELD_ERRORS)
        conflict = self._component("ConflictErrors", CONFLICT)
        has_body = self.method in {"POST", "PUT", "PATCH"}
        paginated = bool(self._get_pagination_parameters())  # type: ignore[no-untyped-call]
        has_query = any(
            parameter["in"] == "query"
            for parameter in self._get_parameters()  # type: ignore[no-untyped-call]
        )
        has_path_object = "{" in self.path
        public = any(isinstance(p, AllowAny) for p in self.view.get_permissions())
        errors: dict[str, OpenApiResponse] = {}
        if has_body or has_query:
            errors["400"] = OpenApiResponse(field_errors, description="The input is not valid")
        if not public:
            errors["401"] = OpenApiResponse(detail, description="Not signed in")
            errors["403"] = OpenApiResponse(detail, description="Not allowed")
        if has_path_object or paginated:
            errors["404"] = OpenApiResponse(detail, description="No such object (or page)")
        if self.method in WRITES and not public:
            errors["409"] = OpenApiResponse(conflict, description="The state changed; reload and try again")
        if has_body:
            errors["415"] = OpenApiResponse(detail, description="A body in a format the API does not read")
        errors["429"] = OpenApiResponse(detail, description="Too many requests; try again later")
        return errors

    def _map_serializer_field(  # type: ignore[no-untyped-def]
        self, field, direction, bypass_extensions=False
    ):
        if isinstance(field, serializers.TimeField) and not has_override(field, "field"):  # type: ignore[no-untyped-call]
            meta = self._get_serializer_field_meta(field, direction)  # type: ignore[no-untyped-call]
            return append_meta(dict(LOCAL_TIME), meta)  # type: ignore[no-untyped-call]
        return super()._map_serializer_field(field, direction, bypass_extensions)  # type: ignore[no-untyped-call]

    def _map_basic_serializer(  # type: ignore[no-untyped-def]
        self, serializer, direction
    ):
        # Fields a serializer leaves out of some answers (``omitted_for_some_readers``, e.g. contact details
        # the reader may not see) are documented as optional.
        schema = super()._map_basic_serializer(serializer, direction)  # type: ignore[no-untyped-call]
        optional = getattr(serializer, "omitted_for_some_readers", ())
        if optional and "required" in schema:
            schema["required"] = [name for name in schema["required"] if name not in optional]
            if not schema["required"]:
                del schema["required"]
        return schema

    def _get_response_bodies(self, direction: Literal["request", "response"] = "response") -> _Responses:
        responses: _Responses = super()._get_response_bodies(direction)
        if direction != "response":
            return responses
        for code, response in self._error_responses().items():
            if code not in responses:
                responses[code] = self._get_response_for_code(  # type: ignore[no-untyped-call]
                    response, code, direction=direction
                )
        return responses
