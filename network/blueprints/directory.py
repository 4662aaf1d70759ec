"""Directory pages: search with facets, the finder, entries, editing, staleness, handover."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from flask import (
    Blueprint,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required
from werkzeug.datastructures import MultiDict

from network import i18n, policy
from network.blueprints.auth import reauth_required
from network.blueprints.forms import (
    ContactPointForm,
    EmptyForm,
    FinderForm,
    HandoverForm,
    ImportForm,
    LinkAccountForm,
    NetworkForm,
)
from network.blueprints.utils import apply_errors, download, require
from network.errors import TooLarge, ValidationError
from network.services import audit, directory, directory_io

bp = Blueprint("directory", __name__, url_prefix="/directory")


@bp.before_request
@login_required
def _signed_in() -> None:
    """Everything about people is for signed-in members (the public part is /networks)."""


def _search_page_args() -> dict[str, Any]:
    return {
        "facet_titles": {
            "network": _("Network"),
            "country": _("Country"),
            "authority_type": _("Authority type"),
            "expertise": _("Expertise"),
            "language": _("Language"),
            "available_24_7": _("Availability"),
        },
        "sort_labels": {
            "name": _("Name"),
            "country": _("Country"),
            "confirmed_desc": _("Recently confirmed"),
            "confirmed_asc": _("Least recently confirmed"),
        },
    }


@bp.get("/")
def search():  # type: ignore[no-untyped-def]
    try:
        query = directory.parse_query(request.args, current_user)
    except ValidationError as error:
        # Drop what was not understood, say so, and still show a useful page.
        flash(error.message + " " + " ".join(f"{v}" for v in error.fields.values()), "error")
        clean = MultiDict(
            [(k, v) for k, v in request.args.items(multi=True) if k not in error.fields]
        )
        query = directory.parse_query(clean, current_user)
        status = 400
    else:
        status = 200
    result = directory.search(query, current_user, with_attributes=False)
    return (
        render_template(
            "directory/search.html",
            result=result,
            is_stale=directory.is_stale,
            **_search_page_args(),
        ),
        status,
    )


@bp.get("/find")
def finder():  # type: ignore[no-untyped-def]
    form = FinderForm(request.args)
    form.measure.choices = directory.choices("expertise")
    form.country.choices = i18n.country_choices()
    answer = None
    status = 200
    if request.args.get("measure") or request.args.get("country"):
        try:
            answer = directory.find_competent(
                request.args.get("measure", ""), request.args.get("country", ""), current_user
            )
        except ValidationError as error:
            apply_errors(form, error)
            status = error.status
    return render_template(
        "directory/finder.html", form=form, answer=answer, is_stale=directory.is_stale
    ), status


@bp.get("/<int:cp_id>")
def entry(cp_id: int):  # type: ignore[no-untyped-def]
    cp = directory.get_contact_point(cp_id, current_user)
    can_edit = policy.can_edit_contact_point(current_user, cp)
    handover_form = None
    if can_edit and cp.is_current:
        handover_form = HandoverForm()
        handover_form.successor.choices = _successor_choices(cp)
    return render_template(
        "directory/entry.html",
        cp=cp,
        stale=directory.is_stale(cp),
        history=audit.history("contact_point", cp.id),
        detail_lines=audit.detail_lines,
        predecessors=directory.predecessors(cp),
        can_edit=can_edit,
        can_confirm=policy.can_confirm_contact_point(current_user, cp),
        empty_form=EmptyForm(),
        handover_form=handover_form,
        link_form=LinkAccountForm(user_email=cp.user.email if cp.user else ""),
    )


def _successor_choices(cp: Any) -> list[tuple[int, str]]:
    query = directory.SearchQuery(country=[cp.country], per_page=directory.MAX_PER_PAGE)
    candidates = directory.search_all(query, current_user, limit=500)
    return [
        (c.id, f"{c.name} — {c.institution}")
        for c in candidates
        if c.id != cp.id and policy.can_edit_contact_point(current_user, c)
    ]


def _fill_choices(form: ContactPointForm) -> None:
    managed = policy.managed_network_ids(current_user)
    form.networks.choices = [
        (n.slug, n.acronym) for n in directory.list_networks() if managed is None or n.id in managed
    ]
    form.authority_type.choices = directory.choices("authority_type")
    form.country.choices = i18n.country_choices()
    form.languages.choices = i18n.language_choices()
    form.request_languages.choices = i18n.language_choices()
    form.channels.choices = directory.choices("channel")
    form.expertise.choices = directory.choices("expertise")
    form.office_timezone.choices = [(z, z.replace("_", " ")) for z in i18n.timezone_names()]


def _form_data(form: ContactPointForm) -> dict[str, Any]:
    data = {
        name: field.data
        for name, field in form._fields.items()
        if name not in {"submit", "csrf_token"}
    }
    data["phones"] = form.phones.data or ""
    return data


@bp.route("/new", methods=["GET", "POST"])
def create():  # type: ignore[no-untyped-def]
    require(policy.can_manage_any_directory(current_user))
    form = ContactPointForm()
    _fill_choices(form)
    if request.method == "GET":
        form.office_timezone.data = "UTC"
    if form.validate_on_submit():
        try:
            cp = directory.create_contact_point(_form_data(form), current_user)
        except ValidationError as error:
            apply_errors(form, error)
        else:
            flash(_("The entry is created."), "success")
            return redirect(url_for("directory.entry", cp_id=cp.id))
    elif request.method == "POST":
        flash(_("Some values are not valid."), "error")
    return render_template(
        "directory/edit.html", form=form, cp=None
    ), 422 if request.method == "POST" else 200


@bp.route("/<int:cp_id>/edit", methods=["GET", "POST"])
def edit(cp_id: int):  # type: ignore[no-untyped-def]
    cp = directory.get_contact_point(cp_id, current_user)
    require(policy.can_edit_contact_point(current_user, cp))
    values = directory.snapshot(cp)
    values["phones"] = "; ".join(values["phones"])
    values["last_confirmed"] = cp.last_confirmed_at
    form = ContactPointForm(data=values) if request.method == "GET" else ContactPointForm()
    _fill_choices(form)
    if form.validate_on_submit():
        try:
            directory.update_contact_point(cp, _form_data(form), current_user)
        except ValidationError as error:
            apply_errors(form, error)
        else:
            flash(_("The entry is saved."), "success")
            return redirect(url_for("directory.entry", cp_id=cp.id))
    elif request.method == "POST":
        flash(_("Some values are not valid."), "error")
    status = 422 if request.method == "POST" else 200
    return render_template("directory/edit.html", form=form, cp=cp), status


@bp.post("/<int:cp_id>/confirm")
def confirm(cp_id: int):  # type: ignore[no-untyped-def]
    cp = directory.get_contact_point(cp_id, current_user)
    if EmptyForm().validate_on_submit():
        directory.confirm_contact_point(cp, current_user)
        flash(_("Thank you: the entry is confirmed as of today."), "success")
    return redirect(url_for("directory.entry", cp_id=cp.id))


@bp.post("/<int:cp_id>/handover")
def handover(cp_id: int):  # type: ignore[no-untyped-def]
    cp = directory.get_contact_point(cp_id, current_user)
    require(policy.can_edit_contact_point(current_user, cp))
    form = HandoverForm()
    form.successor.choices = _successor_choices(cp)
    if form.validate_on_submit():
        successor = directory.get_contact_point(form.successor.data, current_user)
        try:
            directory.hand_over(cp, successor, current_user)
        except ValidationError as error:
            flash(" ".join(error.fields.values()) or error.message, "error")
        else:
            flash(
                _(
                    "The entry is handed over to %(name)s.",
                    name=i18n.isolate(successor.name, markup=False),
                ),
                "success",
            )
    else:
        flash(_("Choose a successor from the list."), "error")
    return redirect(url_for("directory.entry", cp_id=cp.id))


@bp.post("/<int:cp_id>/link")
def link(cp_id: int):  # type: ignore[no-untyped-def]
    cp = directory.get_contact_point(cp_id, current_user)
    form = LinkAccountForm()
    if form.validate_on_submit():
        try:
            directory.link_account(cp, (form.user_email.data or "").strip(), current_user)
        except ValidationError as error:
            flash(" ".join(error.fields.values()), "error")
        else:
            flash(_("The account link is saved."), "success")
    return redirect(url_for("directory.entry", cp_id=cp.id))


@bp.get("/networks/<slug>/stale")
def stale(slug: str):  # type: ignore[no-untyped-def]
    network = directory.get_network(slug)
    require(policy.can_manage_directory(current_user, network))
    return render_template(
        "directory/stale.html",
        network=network,
        entries=directory.stale_entries(network, current_user),
        form=EmptyForm(),
    )


@bp.post("/networks/<slug>/remind")
def remind(slug: str):  # type: ignore[no-untyped-def]
    network = directory.get_network(slug)
    require(policy.can_manage_directory(current_user, network))
    if EmptyForm().validate_on_submit():
        raw_ids = request.form.getlist("entry")
        try:
            ids = [int(i) for i in raw_ids] if raw_ids else None
        except ValueError:
            flash(_("Choose entries from the list."), "error")
            return redirect(url_for("directory.stale", slug=slug))
        sent = directory.send_reminders(network, current_user, ids)
        flash(ngettext("%(num)d reminder sent.", "%(num)d reminders sent.", sent), "success")
    return redirect(url_for("directory.stale", slug=slug))


@bp.route("/networks/<slug>/edit", methods=["GET", "POST"])
def edit_network(slug: str):  # type: ignore[no-untyped-def]
    network = directory.get_network(slug)
    require(policy.can_manage_network(current_user, network))
    data = directory.network_snapshot(network)
    form = NetworkForm(data=data) if request.method == "GET" else NetworkForm()
    form.languages.choices = i18n.language_choices()
    form.member_states.choices = i18n.country_choices()
    if form.validate_on_submit():
        try:
            payload = {
                k: f.data for k, f in form._fields.items() if k not in {"submit", "csrf_token"}
            }
            payload["names"] = {
                code: request.form.get(f"name_{code}", "") for code in directory.name_locales()
            }
            directory.update_network(network, payload, current_user)
        except ValidationError as error:
            apply_errors(form, error)
        else:
            flash(_("The network is saved."), "success")
            return redirect(url_for("main.networks") + f"#{network.slug}")
    elif request.method == "POST":
        flash(_("Some values are not valid."), "error")
    status = 422 if request.method == "POST" else 200
    names = (
        {code: request.form.get(f"name_{code}", "") for code in directory.name_locales()}
        if request.method == "POST"
        else network.names_by_locale
    )
    return render_template(
        "directory/network_edit.html",
        form=form,
        network=network,
        names=names,
        name_locales=directory.name_locales(),
    ), status


@bp.route("/import", methods=["GET", "POST"])
def import_csv():  # type: ignore[no-untyped-def]
    managed = policy.managed_network_ids(current_user)
    require(policy.can_manage_any_directory(current_user))
    form = ImportForm()
    form.network.choices = [
        (n.slug, f"{n.acronym} — {n.name}")
        for n in directory.list_networks()
        if managed is None or n.id in managed
    ]
    report = None
    status = 200
    if form.validate_on_submit():
        network = directory.get_network(form.network.data or "")
        upload = form.file.data
        data = upload.stream.read(current_app.config["MAX_IMPORT_BYTES"] + 1)
        try:
            report = directory_io.import_directory(
                data, network, current_user, dry_run=bool(form.dry_run.data)
            )
        except (ValidationError, TooLarge) as error:
            apply_errors(form, error)
            status = error.status
        else:
            if not report.ok:
                flash(_("The file has errors: nothing was written."), "error")
                status = 422
            elif report.dry_run:
                flash(_('The file is valid. Untick "dry run" to import it.'), "success")
            else:
                flash(
                    _(
                        "Imported: %(c)d created, %(u)d updated.",
                        c=report.created,
                        u=report.updated,
                    ),
                    "success",
                )
    elif request.method == "POST":
        flash(_("Choose a network and a CSV file."), "error")
        status = 422
    return render_template(
        "directory/import.html", form=form, report=report, columns=directory_io.COLUMNS
    ), status


def _export_query():  # type: ignore[no-untyped-def]
    args = MultiDict(request.args)
    args.pop("page", None)
    args.pop("per_page", None)
    return directory.parse_query(args, current_user)


@bp.get("/export.csv")
@reauth_required
def export_csv():  # type: ignore[no-untyped-def]
    entries = directory.search_all(_export_query(), current_user)
    return download(directory_io.export_csv(entries), "text/csv", "contact-points.csv")


@bp.get("/export.vcf")
@reauth_required
def export_vcf():  # type: ignore[no-untyped-def]
    entries = directory.search_all(_export_query(), current_user)
    return download(directory_io.export_vcards(entries), "text/vcard", "contact-points.vcf")


@bp.get("/<int:cp_id>.vcf")
def entry_vcf(cp_id: int):  # type: ignore[no-untyped-def]
    cp = directory.get_contact_point(cp_id, current_user)
    return download(directory_io.vcard(cp), "text/vcard", f"contact-{cp.id}.vcf")


@bp.app_template_global()
def search_url(**changes: Any) -> str:
    """The current search's URL with ``changes``: ``toggle=(facet, value)`` adds or
    removes one facet value; other keys replace a parameter (None removes it)."""
    args = MultiDict(request.args)
    endpoint = changes.pop("_endpoint", None) or "directory.search"
    # A search page links every facet value: build the route once per request and add
    # the query string ourselves (url_for per link was a fifth of the page's time).
    paths = g.setdefault("search_url_paths", {})
    path = paths.get(endpoint) or paths.setdefault(endpoint, url_for(endpoint))
    toggle = changes.pop("toggle", None)
    if toggle:
        facet, value = toggle
        values = args.getlist(facet)
        args.setlist(
            facet, [v for v in values if v != value] if value in values else [*values, value]
        )
        args.pop("page", None)
    for key, value in changes.items():
        if value is None:
            args.pop(key, None)
        else:
            args[key] = value
    query = urlencode(list(args.items(multi=True)))
    return f"{path}?{query}" if query else path
