import factory

from contacts.models import Contact, ContactList


class ContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contact

    external_id = factory.Sequence(lambda n: f"user-{n}")
    phone = factory.Sequence(lambda n: f"+90532{n:07d}")
    email = factory.Sequence(lambda n: f"user{n}@example.com")
    attributes = factory.Dict({"name": "Ayşe", "city": "İzmir"})


class ContactListFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ContactList

    name = factory.Sequence(lambda n: f"List {n}")
