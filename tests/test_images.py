"""Covers, speaker photos and series covers: uploaded through the forms, checked, re-encoded, served."""

from __future__ import annotations

import io
import re

import pytest
from PIL import Image
from sqlalchemy import select

from tests import images
from tests.factories import make_event, make_series, make_user
from tests.helpers import submit
from tests.helpers import webinar_form as _form
from webinars.extensions import db
from webinars.images.storage import storage
from webinars.models import Event, Series
from webinars.models import Image as StoredImage


def _upload(data: bytes, name: str = "cover.jpg") -> tuple[io.BytesIO, str]:
    return (io.BytesIO(data), name)


def _create_with_cover(client, data: bytes, alt: str = "Speakers on a stage in Santiago", **fields):
    return submit(
        client,
        "/manage/webinars/new",
        _form(cover=_upload(data), cover_alt=alt, **fields),
        content_type="multipart/form-data",
    )


def _error_of(page: str, field_id: str) -> str:
    match = re.search(rf'<p class="error" id="{re.escape(field_id)}-error">([^<]*)</p>', page)
    assert match, f"no error next to {field_id}"
    return match.group(1)


def test_a_cover_is_stored_at_several_widths_without_metadata(client, app, auth):
    auth.login(make_user())
    response = _create_with_cover(client, images.jpeg(1600, 900, with_location=True))
    assert response.status_code == 302, response.get_data(as_text=True)
    event = db.session.scalars(select(Event)).one()
    assert event.cover is not None
    assert event.cover.width_list == [320, 640, 1280]
    assert event.cover_alt == "Speakers on a stage in Santiago"
    served = client.get(f"/media/{event.cover.key}-640.jpg")
    assert served.status_code == 200
    assert served.mimetype == "image/jpeg"
    assert "immutable" in served.headers["Cache-Control"]
    assert "max-age=31536000" in served.headers["Cache-Control"]
    decoded = Image.open(io.BytesIO(served.data))
    assert decoded.size == (640, 360)
    assert decoded.getexif() == {}
    assert b"CameraMaker" not in served.data
    webp = client.get(f"/media/{event.cover.key}-1280.webp")
    assert Image.open(io.BytesIO(webp.data)).format == "WEBP"


def test_a_small_picture_is_never_enlarged(client, app, auth):
    auth.login(make_user())
    assert _create_with_cover(client, images.png(400, 300)).status_code == 302
    cover = db.session.scalars(select(Event)).one().cover
    assert cover.width_list == [320, 400]


def test_the_public_page_shows_the_cover_with_srcset_and_alt(client, app, auth):
    auth.login(make_user())
    _create_with_cover(client, images.jpeg())
    event = db.session.scalars(select(Event)).one()
    manage_page = f"/manage/webinars/{event.id}"
    submit(client, f"{manage_page}/publish", {}, form_page=manage_page)
    page = client.get(f"/webinars/{event.slug}").get_data(as_text=True)
    assert f"/media/{event.cover.key}-320.webp 320w" in page
    assert f"/media/{event.cover.key}-1280.jpg 1280w" in page
    assert 'alt="Speakers on a stage in Santiago"' in page
    # In lists the title beside it names the webinar: the thumbnail is decorative there.
    listing = client.get("/").get_data(as_text=True)
    assert f"/media/{event.cover.key}-320.jpg 320w" in listing


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"Just some text, not a picture at all.", "not a picture"),
        (images.SVG_WITH_SCRIPT, "SVG"),
        (images.png_claiming(60_000, 60_000), "too large"),
        (images.jpeg()[:900], "damaged or incomplete"),
        (images.jpeg(200, 200) + b"<script>alert(1)</script>", "more than a picture"),
        (b"GIF89a/*<html><body onload=alert(1)>*/", "more than a picture"),
        (b"", "empty"),
    ],
    ids=[
        "text",
        "svg-with-script",
        "decompression-bomb",
        "truncated",
        "jpeg-script-polyglot",
        "gif-html",
        "empty",
    ],
)
def test_hostile_uploads_get_a_message_next_to_the_field(client, app, auth, data, expected):
    auth.login(make_user())
    response = _create_with_cover(client, data)
    assert response.status_code == 200
    assert expected in _error_of(response.get_data(as_text=True), "cover")
    assert db.session.scalars(select(StoredImage)).all() == []


def test_a_file_over_the_size_limit_is_refused(client, app, auth):
    app.config["IMAGE_MAX_BYTES"] = 10_000
    auth.login(make_user())
    response = _create_with_cover(client, images.jpeg(3000, 2000))
    assert "larger than" in _error_of(response.get_data(as_text=True), "cover")


def test_alt_text_is_required_with_a_cover(client, app, auth):
    auth.login(make_user())
    response = _create_with_cover(client, images.jpeg(), alt="")
    assert response.status_code == 200
    assert "Describe the picture" in _error_of(response.get_data(as_text=True), "cover_alt")


def test_editing_keeps_the_cover_and_removing_it_takes_it_off(client, app, auth):
    auth.login(make_user())
    _create_with_cover(client, images.jpeg())
    event = db.session.scalars(select(Event)).one()
    cover_id = event.cover_id
    edit = f"/manage/webinars/{event.id}/edit"
    kept = submit(client, edit, _form(cover_alt="A new description"), content_type="multipart/form-data")
    assert kept.status_code == 302
    db.session.expire_all()
    assert event.cover_id == cover_id
    assert event.cover_alt == "A new description"
    blank_alt = submit(client, edit, _form(cover_alt=""), content_type="multipart/form-data")
    assert "Describe the picture" in _error_of(blank_alt.get_data(as_text=True), "cover_alt")
    removed = submit(client, edit, _form(remove_cover="y"), content_type="multipart/form-data")
    assert removed.status_code == 302
    db.session.expire_all()
    assert event.cover_id is None


def test_speaker_photos_are_uploaded_and_kept_by_name(client, app, auth):
    auth.login(make_user())
    response = submit(
        client,
        "/manage/webinars/new",
        _form(**{"speakers-0-photo": _upload(images.jpeg(800, 800)), "speakers-0-photo_alt": "Camila Rojas"}),
        content_type="multipart/form-data",
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    event = db.session.scalars(select(Event)).one()
    photo_id = event.speakers[0].photo_id
    assert photo_id is not None
    assert event.speakers[1].photo_id is None
    manage_page = f"/manage/webinars/{event.id}"
    submit(client, f"{manage_page}/publish", {}, form_page=manage_page)
    page = client.get(f"/webinars/{event.slug}").get_data(as_text=True)
    assert f"/media/{event.speakers[0].photo.key}-320.jpg 320w" in page
    assert 'alt="Camila Rojas"' in page
    # The speakers change places: the photo follows its speaker.
    swapped = _form(
        **{
            "speakers-0-name": "Ane Etxeberria",
            "speakers-0-affiliation": "Orkestra",
            "speakers-1-name": "Camila Rojas",
            "speakers-1-affiliation": "Universidad de Chile",
        }
    )
    assert submit(client, f"/manage/webinars/{event.id}/edit", swapped).status_code == 302
    db.session.expire_all()
    assert [(s.name, s.photo_id) for s in event.speakers] == [
        ("Ane Etxeberria", None),
        ("Camila Rojas", photo_id),
    ]


def test_a_speaker_photo_needs_its_alt_text(client, app, auth):
    auth.login(make_user())
    response = submit(
        client,
        "/manage/webinars/new",
        _form(**{"speakers-0-photo": _upload(images.jpeg(400, 400))}),
        content_type="multipart/form-data",
    )
    assert "Describe the picture" in _error_of(response.get_data(as_text=True), "speakers-0-photo_alt")


def test_a_series_gets_a_cover(client, app, auth):
    owner = make_user()
    series = make_series(owner)
    auth.login(owner)
    url = f"/manage/series/{series.id}/edit"
    response = submit(
        client,
        url,
        {
            "title": series.title,
            "owners": str(owner.id),
            "cover": _upload(images.png(1400, 700), "cover.png"),
            "cover_alt": "A map of Latin America",
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    db.session.expire_all()
    stored = db.session.get(Series, series.id)
    assert stored.cover.width_list == [320, 640, 1280]
    page = client.get(f"/series/{series.slug}").get_data(as_text=True)
    assert 'alt="A map of Latin America"' in page


def test_image_names_outside_the_pattern_are_not_found(client, app):
    make_event()
    for name in ("..%2F..%2Fconfig.py", "abc.jpg", "x" * 300, "0123456789ab-640.svg"):
        assert client.get(f"/media/{name}").status_code == 404


def test_files_live_under_the_instance_folder(client, app, auth):
    auth.login(make_user())
    _create_with_cover(client, images.jpeg())
    cover = db.session.scalars(select(Event)).one().cover
    with app.test_request_context():
        path = storage().path(f"{cover.key}-320.webp")  # type: ignore[attr-defined]
    assert path.startswith(app.instance_path)


def test_replaced_pictures_are_pruned_with_their_files(client, app, auth, frozen_clock):
    auth.login(make_user())
    _create_with_cover(client, images.jpeg())
    event = db.session.scalars(select(Event)).one()
    old_key = event.cover.key
    edit = f"/manage/webinars/{event.id}/edit"
    replaced = _form(cover=_upload(images.png(900, 500), "new.png"), cover_alt="The new cover")
    assert submit(client, edit, replaced, content_type="multipart/form-data").status_code == 302
    db.session.expire_all()
    new_key = event.cover.key
    frozen_clock.advance(hours=2)
    result = app.test_cli_runner().invoke(args=["prune-images"])
    assert "Deleted 1 unused picture(s)." in result.output
    assert client.get(f"/media/{old_key}-640.webp").status_code == 404
    assert client.get(f"/media/{new_key}-640.webp").status_code == 200
    assert [image.key for image in db.session.scalars(select(StoredImage))] == [new_key]


def test_pictures_from_another_host_are_allowed_by_the_page_policy(client, app):
    app.config["IMAGE_BASE_URL"] = "https://cdn.example.org/webinars"
    event = make_event()
    policy = client.get(f"/webinars/{event.slug}").headers["Content-Security-Policy"]
    img_src = next(part for part in policy.split("; ") if part.startswith("img-src"))
    assert "https://cdn.example.org" in img_src.split()
