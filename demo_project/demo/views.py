"""Pages of the demo: the document list (with a create form) and one page per document.

Every page needs a logged-in user (``LoginRequiredMiddleware``) who may view documents.
"""

from __future__ import annotations

from django.contrib.auth.decorators import permission_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods

from collab.models import Document
from demo_project.demo.forms import DocumentForm


@require_http_methods(["GET", "POST"])
@permission_required("collab.view_document", raise_exception=True)
def document_list(request: HttpRequest) -> HttpResponse:
    """List the documents, recently changed first; editors also get a form to create one."""
    form = None
    if request.user.has_perm("collab.change_document"):
        form = DocumentForm(request.POST if request.method == "POST" else None)
        if form.is_valid():
            document = form.save()
            return redirect("demo:document-detail", key=document.key)
    elif request.method == "POST":
        raise PermissionDenied
    return render(
        request,
        "demo/document_list.html",
        {"documents": Document.objects.all(), "form": form},
    )


@require_http_methods(["GET"])
@permission_required("collab.view_document", raise_exception=True)
def document_detail(request: HttpRequest, key: str) -> HttpResponse:
    """Show a document's title and its text in a live editor shared with everyone on the page."""
    document = get_object_or_404(Document, key=key)
    can_edit = request.user.has_perm("collab.change_document")
    return render(
        request, "demo/document_detail.html", {"document": document, "can_edit": can_edit}
    )
