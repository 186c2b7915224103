"""A template builtin (settings.TEMPLATES): `capfirst` right for Turkish (config/turkish.py)."""

from django import template
from django.template.defaultfilters import stringfilter
from django.utils.translation import get_language

from config.turkish import upper_first

register = template.Library()


@register.filter(is_safe=True)
@stringfilter
def capfirst(value):
    return value and upper_first(value, get_language())
