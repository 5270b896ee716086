"""The document admin: sizes and who is connected, live editing, versions, import, export.

Reading a document (preview, compare, export) needs the ``view`` permission; changing
it (named versions, restore, import over it) the ``change`` permission, and importing
a new document the ``add`` permission. Every change goes through the document's room
(:mod:`collab.documents`), so connected editors see it at once.
"""

from __future__ import annotations

import difflib
import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import PermissionDenied
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.db.models.functions import Length
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.defaultfilters import filesizeformat
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.html import escape
from django.utils.http import content_disposition_header
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_POST

from collab import content, documents, exports, presence, store, usage, versions
from collab.conf import conf
from collab.exceptions import CollabError, DocumentExists, ImportRejected
from collab.html import to_html
from collab.keys import validate_key
from collab.models import Document, DocumentSnapshot

if TYPE_CHECKING:
    from django.contrib.auth.base_user import AbstractBaseUser

    ModelAdmin = admin.ModelAdmin[Document]
else:
    ModelAdmin = admin.ModelAdmin

View = Callable[..., HttpResponse]

UNREADABLE = "collab cannot read or change the content of this document:"
"""Starts the message shown instead of content that fails collab's checks."""

PRESENCE_ATTRIBUTE = "collab_presence"
"""Where the change list puts who is connected on each listed document."""


def acting_user(request: HttpRequest) -> AbstractBaseUser | None:
    """Who makes a change from the admin, as the document API takes it."""
    return request.user if request.user.is_authenticated else None


def version_label(snapshot: DocumentSnapshot) -> str:
    """``“name”`` for a named version, ``of <time>`` for a checkpoint."""
    if snapshot.name:
        return f"“{snapshot.name}”"
    return f"of {snapshot.created_at:%Y-%m-%d %H:%M:%S}"


class YesNoFilter(admin.SimpleListFilter):
    """A filter offering documents that match :meth:`condition`, or those that don't."""

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        """Yes or no."""
        return [("yes", "Yes"), ("no", "No")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        """The documents matching the chosen answer."""
        if self.value() == "yes":
            return queryset.filter(self.condition())
        if self.value() == "no":
            return queryset.exclude(self.condition())
        return queryset

    def condition(self) -> Q | Exists:
        """What "yes" means."""
        raise NotImplementedError


class NamedVersionsFilter(YesNoFilter):
    """Documents with at least one named version."""

    title = "named versions"
    parameter_name = "named"

    def condition(self) -> Q | Exists:
        """A snapshot of the document has a name."""
        return Exists(DocumentSnapshot.objects.filter(document=OuterRef("pk")).exclude(name=""))


class ConnectedFilter(YesNoFilter):
    """Documents someone is connected to right now."""

    title = "connected now"
    parameter_name = "connected"

    def condition(self) -> Q | Exists:
        """Fresh presence for the document (:func:`collab.presence.live_presence`)."""
        return Q(pk__in=list(presence.open_documents()))


class DocumentChangeList(ChangeList):
    """The document list, with who is connected to each listed document."""

    def get_results(self, request: HttpRequest) -> None:
        """Fetch the page, then who is connected to it (two more queries)."""
        super().get_results(request)
        live = presence.live_presence([document.pk for document in self.result_list])
        described = presence.describe_presence(live)
        for document in self.result_list:
            setattr(document, PRESENCE_ATTRIBUTE, described.get(document.pk))


class VersionForm(forms.Form):
    """Name the current content as a version that is kept forever."""

    name = forms.CharField(max_length=200, label="Version name")


class ImportForm(forms.Form):
    """Create a document from a file, or replace an existing document's content."""

    key = forms.CharField(max_length=200, validators=[validate_key])
    title = forms.CharField(max_length=255, required=False, help_text="For a new document.")
    file = forms.FileField(help_text="A Yjs update (as exported) or UTF-8 text.")
    format = forms.ChoiceField(
        choices=[
            ("", "From the file name: .yjs is a Yjs update, anything else text"),
            ("yjs", "Yjs update"),
            ("text", "Text"),
        ],
        required=False,
    )
    replace = forms.BooleanField(
        required=False,
        label="Replace existing content",
        help_text="If the document exists, make the file its content. This is a new "
        "edit: the earlier versions stay.",
    )

    def clean(self) -> dict[str, Any]:
        """Check the file and put the Yjs update to apply in ``cleaned_data["update"]``."""
        cleaned = super().clean() or {}
        upload = cleaned.get("file")
        if upload is None or "key" not in cleaned:
            return cleaned
        if upload.size is not None and upload.size > conf.MAX_FRAME_BYTES:
            limit = filesizeformat(conf.MAX_FRAME_BYTES)
            self.add_error("file", f"The file is larger than {limit} (MAX_FRAME_BYTES).")
            return cleaned
        fmt = cleaned["format"] or exports.guess_format(upload.name or "")
        try:
            cleaned["update"] = exports.prepare_import(
                cleaned["key"], upload.read(), fmt, replace=cleaned["replace"]
            )
        except DocumentExists as exc:
            self.add_error("key", f"{exc} Tick “Replace existing content” to import over it.")
        except ImportRejected as exc:
            self.add_error("file", str(exc))
        return cleaned


@admin.register(Document)
class DocumentAdmin(ModelAdmin):
    """Documents with their size and who is connected; content is edited live."""

    change_form_template = "admin/collab/document/document_change_form.html"
    change_list_template = "admin/collab/document/document_change_list.html"
    list_display = ("key", "title", "size", "updated_at", "connected")
    list_filter = ("updated_at", NamedVersionsFilter, ConnectedFilter)
    search_fields = ("key", "title")
    readonly_fields = ("created_at", "updated_at")
    date_hierarchy = "updated_at"

    def get_queryset(self, request: HttpRequest) -> QuerySet[Document]:
        """Documents with ``stored_bytes``, computed by the database."""
        return super().get_queryset(request).annotate(stored_bytes=usage.stored_bytes())

    def get_readonly_fields(self, request: HttpRequest, obj: Document | None = None) -> Any:
        """The key is fixed once the document exists: clients address it by its key."""
        fields = tuple(super().get_readonly_fields(request, obj))
        return fields if obj is None else ("key", *fields)

    def get_changelist(self, request: HttpRequest, **kwargs: Any) -> type[ChangeList]:
        """A change list that knows who is connected to the listed documents."""
        return DocumentChangeList

    @admin.display(description="size", ordering="stored_bytes")
    def size(self, document: Document) -> str:
        """Bytes of the stored state: latest snapshot plus update log."""
        return filesizeformat(getattr(document, "stored_bytes", 0))

    @admin.display(description="connected now")
    def connected(self, document: Document) -> str | None:
        """Who is connected right now, and through how many connections."""
        presence: str | None = getattr(document, PRESENCE_ATTRIBUTE, None)
        return presence

    def render_change_form(
        self,
        request: HttpRequest,
        context: dict[str, Any],
        add: bool = False,
        change: bool = False,
        form_url: str = "",
        obj: Document | None = None,
    ) -> HttpResponse:
        """Add the live editor's mode (rich if the content is rich text) and a preview."""
        if obj is not None:
            try:
                doc = documents.read(obj.key)
            except CollabError as exc:
                context["collab_editor_mode"] = "plain"
                context["collab_preview"] = f"{UNREADABLE} {exc}."
            else:
                rich = content.has_root(doc, content.RICH_TEXT_ROOT)
                context["collab_editor_mode"] = "rich" if rich else "plain"
                context["collab_preview"] = content.text_of(doc)
            context["collab_export_formats"] = exports.EXPORT_FORMATS
        return super().render_change_form(request, context, add, change, form_url, obj)

    def get_urls(self) -> list[URLPattern]:
        """The admin's URLs plus versions, import and export."""
        prefix = f"{self.opts.app_label}_{self.opts.model_name}"

        def view(handler: View) -> View:
            return self.admin_site.admin_view(self._unless_unreadable(handler))

        version = "<path:object_id>/versions/<int:snapshot_id>/"
        return [
            path("import/", view(self.import_view), name=f"{prefix}_import"),
            path(
                "<path:object_id>/export/<str:fmt>/",
                view(self.export_view),
                name=f"{prefix}_export",
            ),
            path("<path:object_id>/versions/", view(self.versions_view), name=f"{prefix}_versions"),
            path(version, view(self.version_view), name=f"{prefix}_version"),
            path(f"{version}compare/", view(self.compare_view), name=f"{prefix}_compare"),
            path(
                f"{version}restore/",
                view(require_POST(self.restore_view)),
                name=f"{prefix}_restore",
            ),
            *super().get_urls(),
        ]

    def _unless_unreadable(
        self, handler: Callable[..., HttpResponse]
    ) -> Callable[..., HttpResponse]:
        """Answer content collab refuses to read or write with a message, not an error page.

        A document stored before collab checked updates, or written into the database
        directly, may hold content nested deeper than ``MAX_DEPTH`` or malformed.
        """

        @functools.wraps(handler)
        def answer(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            try:
                return handler(request, *args, **kwargs)
            except CollabError as exc:
                self.message_user(request, f"{UNREADABLE} {exc}.", messages.ERROR)
                return HttpResponseRedirect(reverse("admin:collab_document_changelist"))

        return answer

    def versions_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """List the document's versions; a POST saves the content as a named version."""
        document = self._document(request, object_id, change=request.method == "POST")
        form = VersionForm(request.POST or None)
        if form.is_valid():
            name = form.cleaned_data["name"]
            snapshot = versions.create_version(document, name, user=acting_user(request))
            self.log_change(request, document, f"Saved version “{snapshot.name}”.")
            self.message_user(request, f"Saved version “{snapshot.name}”.", messages.SUCCESS)
            return HttpResponseRedirect(request.path)
        snapshots = list(
            document.snapshots.defer("state")
            .annotate(stored_size=Length("state"))
            .select_related("created_by")
        )
        known = usage.usernames(user_id for snapshot in snapshots for user_id in snapshot.authors)
        rows = [(snapshot, usage.names_of(snapshot.authors, known)) for snapshot in snapshots]
        context = self._context(request, document, "Versions", rows=rows, form=form)
        return TemplateResponse(request, "admin/collab/document/versions.html", context)

    def version_view(self, request: HttpRequest, object_id: str, snapshot_id: int) -> HttpResponse:
        """One version's text and, for rich text, its HTML."""
        document = self._document(request, object_id)
        snapshot = get_object_or_404(DocumentSnapshot, pk=snapshot_id, document=document)
        doc = content.load(bytes(snapshot.state))
        html = to_html(doc) if content.has_root(doc, content.RICH_TEXT_ROOT) else None
        context = self._context(
            request,
            document,
            f"Version {version_label(snapshot)}",
            snapshot=snapshot,
            text=content.text_of(doc),
            html=html,
        )
        return TemplateResponse(request, "admin/collab/document/version.html", context)

    def compare_view(self, request: HttpRequest, object_id: str, snapshot_id: int) -> HttpResponse:
        """A line-by-line diff of a version's text against the current text."""
        document = self._document(request, object_id)
        snapshot = get_object_or_404(DocumentSnapshot, pk=snapshot_id, document=document)
        old = content.text_of(content.load(bytes(snapshot.state)))
        new = documents.read_text(document.key)
        # HtmlDiff escapes the lines but not the headings; its &nbsp; would keep lines
        # from wrapping, so spaces are restored and the page's CSS preserves them.
        table = (
            difflib.HtmlDiff()
            .make_table(
                old.splitlines(),
                new.splitlines(),
                fromdesc=escape(f"Version {version_label(snapshot)}"),
                todesc="Current content",
                context=True,
            )
            .replace("&nbsp;", " ")
        )
        context = self._context(
            request,
            document,
            "Compare with the current content",
            snapshot=snapshot,
            identical=old == new,
            diff=mark_safe(table),  # noqa: S308
        )
        return TemplateResponse(request, "admin/collab/document/compare.html", context)

    def restore_view(self, request: HttpRequest, object_id: str, snapshot_id: int) -> HttpResponse:
        """Make a version the current content again, as a new edit everyone sees live."""
        document = self._document(request, object_id, change=True)
        snapshot = get_object_or_404(DocumentSnapshot, pk=snapshot_id, document=document)
        versions.restore_version(snapshot, user=acting_user(request))
        label = version_label(snapshot)
        self.log_change(request, document, f"Restored version {label}.")
        self.message_user(
            request,
            f"Restored version {label} as a new edit; the earlier versions stay.",
            messages.SUCCESS,
        )
        return HttpResponseRedirect(self._url("versions", document.pk))

    def export_view(self, request: HttpRequest, object_id: str, fmt: str) -> HttpResponse:
        """Download the document as a Yjs update, text, JSON or HTML."""
        document = self._document(request, object_id)
        if fmt not in exports.EXPORT_FORMATS:
            raise Http404(f"No export format {fmt!r}.")
        exported = exports.export(documents.read(document.key), fmt, title=str(document))
        response = HttpResponse(exported.data, content_type=exported.content_type)
        response["Content-Disposition"] = content_disposition_header(
            as_attachment=True, filename=exported.filename(document.key)
        )
        return response

    def import_view(self, request: HttpRequest) -> HttpResponse:
        """Upload a file to create a document or to replace an existing one's content."""
        if not (self.has_add_permission(request) or self.has_change_permission(request)):
            raise PermissionDenied
        form = ImportForm(request.POST or None, request.FILES or None, initial=request.GET.dict())
        if form.is_valid():
            key = form.cleaned_data["key"]
            existing = store.get_document(key)
            allowed = (
                self.has_change_permission(request, existing)
                if existing is not None
                else self.has_add_permission(request)
            )
            if not allowed:
                raise PermissionDenied
            documents.replace(key, form.cleaned_data["update"], user=acting_user(request))
            document = Document.objects.get(key=key)
            if existing is None:
                document.title = form.cleaned_data["title"]
                document.save(update_fields=["title"])
                self.log_addition(request, document, "Imported.")
            else:
                self.log_change(request, document, "Imported new content.")
            self.message_user(request, f"Imported “{document}”.", messages.SUCCESS)
            return HttpResponseRedirect(self._url("change", document.pk))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": "Import a document",
            "form": form,
        }
        return TemplateResponse(request, "admin/collab/document/import.html", context)

    def _document(self, request: HttpRequest, object_id: str, *, change: bool = False) -> Document:
        """The document, if the user may view it (or change it, with ``change``)."""
        document = self.get_object(request, unquote(object_id))
        if document is None:
            raise Http404("No such document.")
        allowed = (
            self.has_change_permission(request, document)
            if change
            else self.has_view_permission(request, document)
        )
        if not allowed:
            raise PermissionDenied
        return document

    def _context(
        self, request: HttpRequest, document: Document, title: str, **extra: Any
    ) -> dict[str, Any]:
        return {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "original": document,
            "title": title,
            "has_change_permission": self.has_change_permission(request, document),
            **extra,
        }

    def _url(self, view: str, document_id: int) -> str:
        name = f"{self.admin_site.name}:{self.opts.app_label}_{self.opts.model_name}_{view}"
        return reverse(name, args=[document_id])
