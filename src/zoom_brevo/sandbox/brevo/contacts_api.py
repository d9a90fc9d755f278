"""Emulated ``/contacts/...`` and ``/processes/...`` operations (getbrevo/brevo-go swagger)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from zoom_brevo.sandbox.brevo.imports import rows_from_file_body, run_import
from zoom_brevo.sandbox.brevo.protocol import (
    ApiFault,
    Op,
    Reply,
    Req,
    bad,
    body_object,
    int_param,
    not_found,
    paging,
)
from zoom_brevo.sandbox.brevo.state import EMAIL_RE, Attribute, Contact, ContactList, Folder, iso
from zoom_brevo.sandbox.brevo.state import Process as ImportProcess

REPORT_PATH = "/files/import-reports/{process_id}/{kind}.csv"
_CATEGORIES = ("normal", "transactional", "category", "calculated", "global")
_TYPES = ("text", "date", "float", "boolean", "id", "category", "multiple-choice")
_LISTED_TYPES = ("text", "date", "float", "id", "boolean")  # getAttributes type enum


def _find_contact(req: Req) -> Contact:
    raw = req.path_params["identifier"]
    kind = req.query.get("identifierType")
    contact: Contact | None = None
    if kind in (None, "email_id") and "@" in raw:
        contact = req.state.contact(raw)
    elif kind in (None, "contact_id") and raw.isdigit():
        contact = req.state.contacts.get(int(raw))
    elif kind == "ext_id":
        contact = next((c for c in req.state.contacts.values() if c.ext_id == raw), None)
    if contact is None:
        raise not_found("Contact does not exist")
    return contact


def _check_lists(req: Req, list_ids: Any) -> list[int]:
    if list_ids is None:
        return []
    if not isinstance(list_ids, list) or not all(isinstance(i, int) for i in list_ids):
        raise bad("listIds should be an array of integers")
    missing = [i for i in list_ids if i not in req.state.lists]
    if missing:
        raise bad(f"List ID(s) {', '.join(map(str, missing))} does not exist")
    return list_ids


async def create_contact(req: Req) -> Reply:
    """POST /contacts: 201 {id} when created, 204 when an existing one is updated."""
    body = body_object(req)
    email, ext_id = body.get("email"), body.get("ext_id")
    if email is None and ext_id is None:
        raise bad(
            "An email or SMS phone number is mandatory to create a new contact", "missing_parameter"
        )
    if email is not None and (not isinstance(email, str) or not EMAIL_RE.match(email)):
        raise bad("Invalid email address")
    list_ids = _check_lists(req, body.get("listIds"))
    attributes = req.state.clean_attributes(body.get("attributes"))
    existing = req.state.contact(email) if isinstance(email, str) else None
    if existing is not None and not body.get("updateEnabled", False):
        raise ApiFault(
            400,
            "duplicate_parameter",
            "Unable to create contact, email is already associated with another Contact",
            {"duplicate_identifiers": ["email"]},
        )
    contact = existing or req.state.create_contact(email, attributes, req.now_s, ext_id)
    if existing is not None:
        req.state.update_contact(existing, attributes, req.now_s)
    for list_id in list_ids:
        req.state.link(contact, list_id)
    return Reply(204) if existing is not None else Reply(201, {"id": contact.id})


def _details(c: Contact) -> dict[str, Any]:
    """A contact as ``getContactDetails`` (``GET /contacts/{identifier}`` and list members)."""
    data: dict[str, Any] = {
        "id": c.id,
        "emailBlacklisted": c.email_blacklisted,
        "smsBlacklisted": c.sms_blacklisted,
        "createdAt": c.created_at,
        "modifiedAt": c.modified_at,
        "attributes": dict(c.attributes),
        "listIds": sorted(c.list_ids),
    }
    if c.email:
        data["email"] = c.email
    return data


async def get_contact(req: Req) -> Reply:
    """GET /contacts/{identifier}."""
    return Reply(200, _details(_find_contact(req)) | {"statistics": {}})


async def delete_contact(req: Req) -> Reply:
    """DELETE /contacts/{identifier}."""
    req.state.delete_contact(_find_contact(req))
    return Reply(204)


async def import_contacts(req: Req) -> Reply:
    """POST /contacts/import: 202 {processId}; the rows are applied later."""
    body = body_object(req)
    sources = [k for k in ("fileUrl", "fileBody", "jsonBody") if body.get(k) is not None]
    if len(sources) != 1:
        raise bad("Exactly one of fileUrl, fileBody or jsonBody is required")
    if sources == ["fileUrl"]:
        raise bad("fileUrl imports are not supported by the sandbox; use jsonBody")
    list_ids = _check_lists(req, body.get("listIds"))
    if not list_ids and body.get("newList") is None:
        raise bad("listIds or newList is required", "missing_parameter")
    source = body[sources[0]]
    _check_import_size(req, source)
    rows = source if sources == ["jsonBody"] else rows_from_file_body(source)
    if not isinstance(rows, list):
        raise bad("jsonBody should be an array")
    list_ids = list_ids or [_new_list(req, body["newList"])]
    process = ImportProcess(
        id=req.state.next_id("process"),
        created_s=req.now_s,
        rows=rows,
        list_ids=list_ids,
        update_existing=bool(body.get("updateExistingContacts", True)),
        empty_attributes=bool(body.get("emptyContactsAttributes", False)),
    )
    req.state.processes[process.id] = process
    return Reply(202, {"processId": process.id})


def _check_import_size(req: Req, source: Any) -> None:
    """``jsonBody``/``fileBody`` are at most 10 MB (brevo.md 2.5; larger files go by fileUrl).

    Brevo does not document the answer to an oversized body; a 400 ``out_of_range`` is
    assumed, which no retry can fix (as for any refused payload).
    """
    text = source if isinstance(source, str) else json.dumps(source, separators=(",", ":"))
    size = len(text.encode())
    if size > req.options.max_import_bytes:
        raise bad(
            f"The import body is {size} bytes, over the maximum of "
            f"{req.options.max_import_bytes}; use fileUrl for larger imports",
            "out_of_range",
        )


def _new_list(req: Req, spec: Any) -> int:
    if not isinstance(spec, dict) or not isinstance(spec.get("listName"), str):
        raise bad("newList.listName is required")
    folder_id = spec.get("folderId")
    if folder_id not in req.state.folders:
        raise bad("Folder ID does not exist")
    new = ContactList(req.state.next_id("list"), spec["listName"], folder_id, iso(req.now_s))
    req.state.lists[new.id] = new
    return new.id


def settle_processes(req: Req) -> None:
    """Complete every import whose processing delay has passed."""
    for process in req.state.processes.values():
        if (
            process.status != "completed"
            and req.now_s >= process.created_s + req.options.import_delay_s
        ):
            run_import(req.state, process, req.now_s)


async def get_process(req: Req) -> Reply:
    """GET /processes/{processId}, with ``info.import`` report URLs once completed."""
    process = req.state.processes.get(int_param(req, "processId"))
    if process is None:
        raise not_found("Process does not exist")
    return Reply(200, _process_item(req, process))


async def list_processes(req: Req) -> Reply:
    """GET /processes: newest first unless ``sort=asc``; limit default 10, max 50.

    Items have the shape of ``GET /processes/{id}``, report URLs included (the spec's
    ``getProcesses`` lists ``getProcess`` items; brevo-python 5.x documents ``info.import``
    on completed imports of the listing too).
    """
    limit, offset = paging(req, default=10, maximum=50)
    sort = req.query.get("sort", "desc")
    if sort not in ("asc", "desc"):
        raise bad("sort should be one of asc, desc")
    ordered = sorted(req.state.processes.values(), key=lambda p: p.id, reverse=sort == "desc")
    page = [_process_item(req, process) for process in ordered[offset : offset + limit]]
    return Reply(200, {"processes": page, "count": len(ordered)})


def _process_item(req: Req, process: ImportProcess) -> dict[str, Any]:
    data: dict[str, Any] = {"id": process.id, "name": process.name, "status": process.status}
    if process.status == "queued" and req.now_s > process.created_s:
        data["status"] = "in_process"
    if process.status == "completed":
        urls = {
            kind: req.base_url + REPORT_PATH.format(process_id=process.id, kind=quote(kind))
            for kind in process.reports
        }
        data["info"] = {
            "import": {k: urls.get(k) for k in ("invalid_emails", "duplicate_email_id")}
        }
        data["completed_at"] = process.completed_at
    return data


def report_csv(req: Req, process_id: int, kind: str) -> str | None:
    """The CSV of one import report, or ``None`` if there is no such report."""
    process = req.state.processes.get(process_id)
    rows = process.reports.get(kind) if process else None
    if rows is None:
        return None
    lines = ["email,row"] + [f"{r['email'].replace(',', ' ')},{r['row']}" for r in rows]
    return "\n".join(lines) + "\n"


async def add_to_list(req: Req) -> Reply:
    """POST /contacts/lists/{listId}/contacts/add (emails only, at most 150)."""
    list_id = int_param(req, "listId")
    if list_id not in req.state.lists:
        raise not_found("List ID does not exist")
    emails = body_object(req).get("emails")
    if not isinstance(emails, list) or not emails or not all(isinstance(e, str) for e in emails):
        raise bad("emails should be a non-empty array of e-mail addresses (ids are not emulated)")
    if len(emails) > 150:
        raise bad("A maximum of 150 emails can be added at a time", "out_of_range")
    success: list[str] = []
    failure: list[str] = []
    for email in emails:
        contact = req.state.contact(email)
        added = contact is not None and req.state.link(contact, list_id)
        if contact is not None and added:
            # A list addition modifies the contact: Brevo keeps which lists it is in, and
            # ``modifiedSince`` listings then include it (Brevo's answer in
            # sendinblue/APIv3-php-library#49: "the contact is modified since we maintain
            # that the contact was added to a particular list").
            req.state.update_contact(contact, {}, req.now_s)
        (success if added else failure).append(email.lower())
    if not success:
        raise bad("Contact already in list and/or does not exist")
    return Reply(201, {"contacts": {"success": success, "failure": failure}})


async def list_attributes(req: Req) -> Reply:
    """GET /contacts/attributes."""
    items = []
    for attr in req.state.attributes.values():
        item: dict[str, Any] = {"name": attr.name, "category": attr.category}
        if attr.type in _LISTED_TYPES:
            item["type"] = attr.type
        if attr.enumeration:
            item["enumeration"] = attr.enumeration
        items.append(item)
    return Reply(200, {"attributes": items})


async def create_attribute(req: Req) -> Reply:
    """POST /contacts/attributes/{attributeCategory}/{attributeName}: 201, empty body."""
    category, name = req.path_params["attributeCategory"], req.path_params["attributeName"]
    body = body_object(req) if req.body is not None else {}
    if category not in _CATEGORIES:
        raise bad(f"Invalid attribute category {category}")
    if name.upper() in req.state.attributes:
        raise bad("Attribute name must be unique", "duplicate_parameter")
    kind = body.get("type", "category" if category == "category" else None)
    if kind not in _TYPES:
        raise bad("Attribute type is missing or invalid")
    if kind in ("boolean", "multiple-choice") and category != "normal":
        raise bad(f"Attribute type {kind} is only allowed for normal attributes")
    enumeration = body.get("enumeration")
    if kind == "category" and not enumeration:
        raise bad("Enumeration is required for category attributes", "missing_parameter")
    req.state.attributes[name.upper()] = Attribute(name.upper(), category, kind, enumeration)
    return Reply(201)


def _counts(req: Req, members: set[int]) -> dict[str, int]:
    blacklisted = sum(1 for cid in members if req.state.contacts[cid].email_blacklisted)
    return {
        "totalBlacklisted": blacklisted,
        "totalSubscribers": len(members),
        "uniqueSubscribers": len(members),
    }


async def list_folders(req: Req) -> Reply:
    """GET /contacts/folders (limit default 10, max 50)."""
    limit, offset = paging(req, default=10, maximum=50)
    folders = sorted(req.state.folders.values(), key=lambda f: f.id)
    page = []
    for folder in folders[offset : offset + limit]:
        members: set[int] = set()
        for lst in req.state.lists.values():
            if lst.folder_id == folder.id:
                members |= lst.members
        page.append({"id": folder.id, "name": folder.name, **_counts(req, members)})
    return Reply(200, {"folders": page, "count": len(folders)})


async def create_folder(req: Req) -> Reply:
    """POST /contacts/folders: 201 {id}."""
    name = body_object(req).get("name")
    if not isinstance(name, str) or not name.strip():
        raise bad("Folder name is required", "missing_parameter")
    folder = Folder(req.state.next_id("folder"), name)
    req.state.folders[folder.id] = folder
    return Reply(201, {"id": folder.id})


def _list_item(req: Req, lst: ContactList) -> dict[str, Any]:
    return {"id": lst.id, "name": lst.name, "folderId": lst.folder_id, **_counts(req, lst.members)}


async def list_lists(req: Req) -> Reply:
    """GET /contacts/lists (limit default 10, max 50)."""
    limit, offset = paging(req, default=10, maximum=50)
    lists = sorted(req.state.lists.values(), key=lambda item: item.id)
    page = [_list_item(req, lst) for lst in lists[offset : offset + limit]]
    return Reply(200, {"lists": page, "count": len(lists)})


async def get_list(req: Req) -> Reply:
    """GET /contacts/lists/{listId}."""
    lst = req.state.lists.get(int_param(req, "listId"))
    if lst is None:
        raise not_found("List ID does not exist")
    return Reply(200, {**_list_item(req, lst), "createdAt": lst.created_at, "dynamicList": False})


async def list_members(req: Req) -> Reply:
    """GET /contacts/lists/{listId}/contacts (spec getContactsFromList): limit default 50,
    max 500; ``sort`` by creation, descending unless ``asc``; ``modifiedSince`` keeps the
    contacts modified after that UTC date-time (``count`` counts what it keeps); 404 for an
    unknown list."""
    lst = req.state.lists.get(int_param(req, "listId"))
    if lst is None:
        raise not_found("List ID does not exist")
    limit, offset = paging(req, default=50, maximum=500)
    sort = req.query.get("sort", "desc")
    if sort not in ("asc", "desc"):
        raise bad("sort should be one of asc, desc")
    members = sorted((req.state.contacts[i] for i in lst.members), key=lambda c: c.id)
    since = _modified_since(req)
    if since is not None:
        members = [c for c in members if _stamp(c.modified_at) > since]
    if sort == "desc":
        members.reverse()
    page = [_details(c) for c in members[offset : offset + limit]]
    return Reply(200, {"contacts": page, "count": len(members)})


def _modified_since(req: Req) -> datetime | None:
    """``modifiedSince`` (spec: ``YYYY-MM-DDTHH:mm:ss.SSSZ``, or with an offset)."""
    text = req.query.get("modifiedSince")
    if text is None:
        return None
    try:
        found = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise bad("modifiedSince should be a date-time such as 2026-01-01T00:00:00.000Z") from None
    return found if found.tzinfo else found.replace(tzinfo=UTC)


def _stamp(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


async def create_list(req: Req) -> Reply:
    """POST /contacts/lists {name, folderId}: 201 {id}."""
    body = body_object(req)
    name, folder_id = body.get("name"), body.get("folderId")
    if not isinstance(name, str) or not name.strip() or not isinstance(folder_id, int):
        raise bad("name and folderId are required", "missing_parameter")
    if folder_id not in req.state.folders:
        raise bad("Folder ID does not exist")
    lst = ContactList(req.state.next_id("list"), name, folder_id, iso(req.now_s))
    req.state.lists[lst.id] = lst
    return Reply(201, {"id": lst.id})


OPS = [
    Op("POST", "/contacts/import", import_contacts),
    Op("GET", "/contacts/attributes", list_attributes),
    Op("POST", "/contacts/attributes/{attributeCategory}/{attributeName}", create_attribute),
    Op("GET", "/contacts/folders", list_folders),
    Op("POST", "/contacts/folders", create_folder),
    Op("GET", "/contacts/lists", list_lists),
    Op("POST", "/contacts/lists", create_list),
    Op("GET", "/contacts/lists/{listId}", get_list),
    Op("GET", "/contacts/lists/{listId}/contacts", list_members),
    Op("POST", "/contacts/lists/{listId}/contacts/add", add_to_list),
    Op("POST", "/contacts", create_contact),
    Op("GET", "/contacts/{identifier}", get_contact),
    Op("DELETE", "/contacts/{identifier}", delete_contact),
    Op("GET", "/processes", list_processes),
    Op("GET", "/processes/{processId}", get_process),
]
