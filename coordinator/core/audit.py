"""New rows inserted with their audit entry written as django-auditlog writes it, for less work.

django-auditlog writes a new row's entry from its ``post_save`` receiver: it works out which fields it
tracks (every field of the model as a set, then the registration's include and exclude lists), compares
each with an absent old row, and builds and saves the entry through the ORM. For a row that is new, what it
compares against never changes, so ``insert_audited`` works out the tracked fields and their old values
once per model and writes the entry with its SQL compiled once per connection (``PreparedInsert``): the
same entry (action, changes in the same order, actor, remote address and port, correlation id, additional
data, content type, object key and repr), the same ``pre_log`` and ``post_log`` signals, and the entry's
own ``pre_save``/``post_save`` receivers (the actor and address of the request, the entry's filing under
its programmes) run as for any entry.

Anything it does not write the same way (auditlog switched off, a model it does not track, a model whose
entries keep a serialised copy of the row) goes django-auditlog's own way.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TypeVar

from auditlog import get_logentry_model
from auditlog.cid import get_cid
from auditlog.context import auditlog_disabled, disable_auditlog
from auditlog.diff import get_field_value, get_fields_in_model, get_mask_function
from auditlog.models import DEFAULT_OBJECT_REPR
from auditlog.registry import auditlog
from auditlog.signals import post_log, pre_log
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ObjectDoesNotExist
from django.db.models import Field, Model
from django.utils.encoding import smart_str

from coordinator.core.prepared_writes import PreparedInsert

ModelT = TypeVar("ModelT", bound=Model)


@dataclass(frozen=True)
class _Tracked:
    """What django-auditlog compares for a new row of one model, in the order it compares it."""

    fields: tuple[tuple[Field[object, object], object], ...]  # (field, its value in an absent row)
    masked: frozenset[str]
    mask_callable: str | None


_TRACKED: dict[tuple[type[Model], bool], _Tracked] = {}
_ENTRIES: list[PreparedInsert[Model]] = []


def _tracked(model: type[Model], instance: Model, use_json: bool) -> _Tracked:
    """As ``auditlog.diff.model_instance_diff(None, instance)`` selects the fields: the model's fields as a
    set (its iteration order is the same for the same fields in one process), filtered by the
    registration's include and exclude lists."""
    key = (model, use_json)
    tracked = _TRACKED.get(key)
    if tracked is None:
        options = auditlog.get_model_fields(model)
        fields = set(get_fields_in_model(instance))
        selected: list[Field[object, object]] | set[Field[object, object]] = fields
        if (options["include_fields"] or options["exclude_fields"]) and fields:
            selected = (
                [field for field in fields if field.name in options["include_fields"]]
                if options["include_fields"]
                else fields
            )
            if options["exclude_fields"]:
                selected = [field for field in selected if field.name not in options["exclude_fields"]]
        tracked = _TRACKED[key] = _Tracked(
            tuple((field, get_field_value(None, field, use_json)) for field in selected),
            frozenset(options["mask_fields"]),
            options["mask_callable"],
        )
    return tracked


def _changes(tracked: _Tracked, instance: Model, use_json: bool) -> dict[str, tuple[object, object]] | None:
    """The ``changes`` of a new row's entry, as ``model_instance_diff(None, instance)`` works them out."""
    diff: dict[str, tuple[object, object]] = {}
    primitive = (type(None), bool, int, float, str, list, tuple, dict, set)
    for field, old_value in tracked.fields:
        new_value = get_field_value(instance, field, use_json)
        if old_value == new_value:
            continue
        if field.name in tracked.masked:
            mask = get_mask_function(tracked.mask_callable)
            diff[field.name] = (mask(smart_str(old_value)), mask(smart_str(new_value)))
        elif not use_json:
            diff[field.name] = (smart_str(old_value), smart_str(new_value))
        else:
            diff[field.name] = (
                old_value if isinstance(old_value, primitive) else smart_str(old_value),
                new_value if isinstance(new_value, primitive) else smart_str(new_value),
            )
    return diff or None


def _entry_insert() -> PreparedInsert[Model]:
    if not _ENTRIES:
        _ENTRIES.append(PreparedInsert(get_logentry_model()))
    return _ENTRIES[0]


def _fast_path(model: type[Model]) -> bool:
    if auditlog_disabled.get() or not auditlog.contains(model):
        return False
    return not auditlog.get_serialize_options(model)["serialize_data"]


def insert_audited(prepared: PreparedInsert[ModelT], instance: ModelT) -> ModelT:
    """Insert a new row as ``instance.save()`` would (see ``PreparedInsert``), with the audit entry
    django-auditlog's ``post_save`` receiver would write for it, written with less work."""
    model = type(instance)
    if not _fast_path(model):
        return prepared.insert(instance)
    # django-auditlog's receiver is the only one this switches off, for this insert alone: the entry is
    # written below, just after the row as the receiver writes it.
    with disable_auditlog():
        prepared.insert(instance)
    log_entry = get_logentry_model()
    action = log_entry.Action.CREATE
    pre_log_results = pre_log.send(model, instance=instance, action=action)
    if any(result is False for _receiver, result in pre_log_results):
        return instance
    use_json = bool(getattr(settings, "AUDITLOG_STORE_JSON_CHANGES", False))
    error: BaseException | None = None
    entry: Model | None = None
    changes = None
    try:
        changes = _changes(_tracked(model, instance, use_json), instance, use_json)
        if changes:
            entry = _entry_insert().insert(_build_entry(instance, action, changes))
    except BaseException as caught:
        error = caught
    finally:
        if entry is not None or error is not None:
            post_log.send(
                model,
                instance=instance,
                instance_old=None,
                action=action,
                error=error,
                pre_log_results=pre_log_results,
                changes=changes,
                log_entry=entry,
                log_created=entry is not None,
                use_json_for_changes=use_json,
            )
    if error is not None:
        raise error
    return instance


def _build_entry(instance: Model, action: int, changes: Mapping[str, Sequence[object]]) -> Model:
    """The entry ``LogEntry.objects.log_create(instance, action=..., changes=...)`` builds, not saved yet
    (its ``pre_save`` receivers add the actor and the client's address when it is)."""
    pk = getattr(instance, instance._meta.pk.attname, None)  # type: ignore[union-attr]
    try:
        object_repr = smart_str(instance)
    except ObjectDoesNotExist:
        object_repr = DEFAULT_OBJECT_REPR
    values: dict[str, object] = {
        "action": action,
        "changes": changes,
        "content_type": ContentType.objects.get_for_model(instance),
        "object_pk": pk,
        "object_repr": object_repr,
        "serialized_data": None,
    }
    if isinstance(pk, int):
        values["object_id"] = pk
    get_additional_data = getattr(instance, "get_additional_data", None)
    if callable(get_additional_data):
        values["additional_data"] = get_additional_data()
    values["cid"] = get_cid()
    return get_logentry_model()(**values)  # type: ignore[no-any-return]


def log_changes(instance: Model, changes: Mapping[str, Sequence[object]]) -> Model:
    """The entry ``LogEntry.objects.log_create(instance, action=UPDATE, changes=changes)`` writes for a
    change a service made without ``save()`` (a compare-and-set ``update()``), written with its SQL
    compiled once per connection (``PreparedInsert``): the same columns, and the entry's own
    ``pre_save``/``post_save`` receivers (actor, address, filing) run as for any entry. A model whose
    entries keep a serialised copy of the row goes ``log_create``'s own way."""
    log_entry = get_logentry_model()
    model = type(instance)
    if auditlog.contains(model) and auditlog.get_serialize_options(model)["serialize_data"]:
        return log_entry.objects.log_create(instance, action=log_entry.Action.UPDATE, changes=changes)  # type: ignore[no-any-return]
    return _entry_insert().insert(_build_entry(instance, log_entry.Action.UPDATE, changes))
