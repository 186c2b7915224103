"""Lists: each list's size on the lists page (one query, not one per list), its members a page at a
time, a link to its contacts, and the contacts list's "Add to list…" / "Remove from list…"."""

import pytest
from django.contrib.admin import helpers
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from contacts.models import ContactListMembership
from contacts.services import contact_list_add
from tests.contacts.factories import ContactFactory, ContactListFactory

pytestmark = pytest.mark.django_db
LISTS = reverse("admin:contacts_contactlist_changelist")
CONTACTS = reverse("admin:contacts_contact_changelist")


def test_the_lists_page_shows_each_size_without_a_query_per_list(admin_client):
    contacts = ContactFactory.create_batch(5)
    small, big = ContactListFactory(name="Small"), ContactListFactory(name="Big")
    ContactListFactory(name="Empty")
    contact_list_add(contact_list=small, contact_ids=[contacts[0].pk])
    contact_list_add(contact_list=big, contact_ids=[c.pk for c in contacts])
    admin_client.get(LISTS)
    with CaptureQueriesContext(connection) as few:
        response = admin_client.get(LISTS, {"o": "2"}, HTTP_ACCEPT_LANGUAGE="en")  # by size
    sizes = [(row.name, row.member_count) for row in response.context["cl"].result_list]
    assert sizes == [("Empty", 0), ("Small", 1), ("Big", 5)]
    for n in range(10):
        contact_list_add(contact_list=ContactListFactory(), contact_ids=[contacts[n % 5].pk])
    with CaptureQueriesContext(connection) as many:
        admin_client.get(LISTS)
    assert len(many) == len(few)
    assert f"{CONTACTS}?list={big.pk}" in response.content.decode()


def test_the_list_page_shows_its_members_a_page_at_a_time(admin_client):
    members = ContactFactory.create_batch(55, attributes={"name": "Deniz"})
    target = ContactListFactory(name="Spring")
    contact_list_add(contact_list=target, contact_ids=[c.pk for c in members])
    url = reverse("admin:contacts_contactlist_change", args=[target.pk])
    page = admin_client.get(url, HTTP_ACCEPT_LANGUAGE="en")
    text = page.content.decode()
    assert "55 contacts in this list" in text and "Page 1 of 2" in text
    assert len(page.context["members"]) == 50
    assert f"{CONTACTS}?list={target.pk}" in text
    second = admin_client.get(url, {"members": "2"}, HTTP_ACCEPT_LANGUAGE="en")
    assert len(second.context["members"]) == 5 and "Page 2 of 2" in second.content.decode()


def test_the_contacts_list_filtered_by_a_list_shows_its_members(admin_client):
    inside, outside = ContactFactory(external_id="in"), ContactFactory(external_id="out")
    target = ContactListFactory()
    contact_list_add(contact_list=target, contact_ids=[inside.pk])
    result = admin_client.get(CONTACTS, {"list": target.pk}).context["cl"].result_list
    assert [c.external_id for c in result] == ["in"]
    assert outside.pk not in [c.pk for c in result]
    assert list(admin_client.get(CONTACTS, {"list": "x"}).context["cl"].result_list) == []


def action(client, name, contacts, url=CONTACTS, **extra):
    data = {"action": name, "index": "0", helpers.ACTION_CHECKBOX_NAME: [c.pk for c in contacts], **extra}
    return client.post(url, data, HTTP_ACCEPT_LANGUAGE="en")


def test_add_to_list_asks_for_the_list_then_adds(client, marketer):
    client.force_login(marketer)
    contacts = ContactFactory.create_batch(3)
    target = ContactListFactory(name="VIP")
    contact_list_add(contact_list=target, contact_ids=[contacts[0].pk])
    asked = action(client, "add_to_list", contacts)
    assert asked.status_code == 200 and "Add 3 chosen contacts to this list" in asked.content.decode()
    assert ContactListMembership.objects.count() == 1
    done = action(client, "add_to_list", contacts, apply="1", contact_list=target.pk)
    assert done.status_code == 302
    assert set(target.contacts.values_list("pk", flat=True)) == {c.pk for c in contacts}
    messages = [str(m) for m in done.wsgi_request._messages]
    assert messages == ["2 contacts added to the list “VIP”."]


def test_remove_from_list_takes_the_chosen_contacts_off_and_keeps_them(client, marketer):
    client.force_login(marketer)
    contacts = ContactFactory.create_batch(3)
    target = ContactListFactory(name="VIP")
    contact_list_add(contact_list=target, contact_ids=[c.pk for c in contacts])
    done = action(client, "remove_from_list", contacts[:2], apply="1", contact_list=target.pk)
    assert done.status_code == 302
    assert list(target.contacts.values_list("pk", flat=True)) == [contacts[2].pk]
    assert all(c.__class__.objects.filter(pk=c.pk).exists() for c in contacts)


def test_select_all_adds_every_contact_of_the_filtered_list(admin_client):
    a = ContactFactory.create_batch(4, attributes={"name": "Ayla"})
    ContactFactory.create_batch(2, attributes={"name": "Can"})
    target = ContactListFactory()
    done = action(
        admin_client, "add_to_list", a[:1], url=f"{CONTACTS}?q=ayla", select_across="1", apply="1",
        contact_list=target.pk,
    )  # fmt: skip
    assert done.status_code == 302
    assert set(target.contacts.values_list("pk", flat=True)) == {c.pk for c in a}


def test_the_list_actions_need_the_right_to_change_lists(client, django_user_model):
    from django.contrib.auth.models import Permission

    user = django_user_model.objects.create_user("viewer", password="x", is_staff=True)
    codenames = ["view_contact", "change_contact", "delete_contact"]
    user.user_permissions.add(*Permission.objects.filter(codename__in=codenames))
    client.force_login(user)
    ContactFactory()
    actions = client.get(CONTACTS).context["action_form"].fields["action"].choices
    assert "delete_selected" in dict(actions) and "add_to_list" not in dict(actions)


def test_without_any_list_the_action_says_to_make_one(admin_client):
    asked = action(admin_client, "add_to_list", ContactFactory.create_batch(1))
    assert "There is no list yet." in asked.content.decode()


def test_a_whole_filtered_list_is_added_and_removed_in_chunks(monkeypatch):
    from contacts import services
    from contacts.models import Contact

    monkeypatch.setattr(services, "LIST_CHUNK", 3)
    contacts = ContactFactory.create_batch(8)
    target = ContactListFactory()
    contact_list_add(contact_list=target, contact_ids=[contacts[0].pk])
    assert services.contact_list_change(contact_list=target, contacts=Contact.objects.all(), add=True) == 7
    assert target.contacts.count() == 8
    members = Contact.objects.filter(memberships__contact_list=target)
    assert services.contact_list_change(contact_list=target, contacts=members, add=False) == 8
    assert target.contacts.count() == 0 and Contact.objects.count() == 8
