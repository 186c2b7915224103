import factory

from providers.services import account_install


class ConsoleAccountFactory(factory.Factory):
    class Meta:
        model = dict

    name = factory.Sequence(lambda n: f"Console {n}")

    @classmethod
    def _create(cls, model_class, name, **values):
        return account_install(name=name, connector="console", values=values)
