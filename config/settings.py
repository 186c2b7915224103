"""One settings module, configured from the environment (see .env.example and README)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _
from kombu import Exchange, Queue

from config.env import local_secret, new_fernet_key, new_secret_key, read_secret, validate_fernet_keys
from config.settings_api import api_settings
from config.settings_security import security_settings

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

TESTING = "pytest" in sys.modules or env.bool("TESTING", default=False)

# Off unless asked for (`make run` asks): a 404 must not list the URLs, an error must not show code.
DEBUG = env.bool("DEBUG", default=False)
# The embedded default: no DATABASE_URL, so SQLite on this one machine, served over plain http.
EMBEDDED = not env.str("DATABASE_URL", default="")
# Where secrets may be generated into local files on first start: a deployment (DATABASE_URL set,
# DEBUG off) must be given them, so that every machine it is scaled out over shares them.
LOCAL_SECRETS = DEBUG or TESTING or EMBEDDED

SECRET_KEY = read_secret(env, "SECRET_KEY")
if not SECRET_KEY:
    if not LOCAL_SECRETS:
        raise ImproperlyConfigured(
            "SECRET_KEY (or SECRET_KEY_FILE) is required when DEBUG is off and DATABASE_URL is set."
        )
    SECRET_KEY = local_secret(BASE_DIR / ".secret_key", new_secret_key)

_field_keys = read_secret(env, "FIELD_ENCRYPTION_KEY")
if not _field_keys:
    if not LOCAL_SECRETS:
        raise ImproperlyConfigured(
            "FIELD_ENCRYPTION_KEY (or FIELD_ENCRYPTION_KEY_FILE) is required when DEBUG is off and "
            "DATABASE_URL is set: "
            "it encrypts connector credentials at rest."
        )
    _field_keys = local_secret(BASE_DIR / ".field_encryption_key", new_fernet_key)
FIELD_ENCRYPTION_KEYS = validate_fernet_keys(_field_keys)

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "config.apps.PanelAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "crispy_forms",
    "crispy_bootstrap5",
    "import_export",
    "django_celery_beat",
    "axes",
    "providers",
    "contacts",
    "consent",
    "messaging",
    "channels_sms",
    "channels_whatsapp",
    "rest_framework",
    "rest_framework_api_key",  # its abstract key model and hasher (api.models.ApiKey)
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "api",
    "webhooks",
    "journeys",
]

# api.middleware.*: the stock middleware of that name, skipped for the API's requests (/api/v1/)
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "api.middleware.ContentSecurityPolicy",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "api.middleware.Language",
    "api.middleware.Common",
    "django.middleware.csrf.CsrfViewMiddleware",
    "api.middleware.User",
    "api.middleware.Messages",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",  # last: turns a lockout into the login page with its message
]

# Axes first: it refuses a locked-out username + address before the password is checked.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
            ],
            "builtins": ["config.templatetags.turkish"],  # capfirst right for Turkish
        },
    },
]

# The embedded default is a SQLite file next to manage.py; production and CI use PostgreSQL.
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"timeout": 20, "transaction_mode": "IMMEDIATE", "init_command": "PRAGMA journal_mode=WAL;"}
    )
    # tests on SQLite use a file, not the in-memory database Django shares between the test and a
    # live server's threads (one connection used by several threads at once can hang a browser test)
    DATABASES["default"]["TEST"] = {"NAME": str(BASE_DIR / f".test-db-{os.getpid()}.sqlite3")}  # one per run
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
    # A kept connection is pinged before a request's or task's first query (one round trip each):
    # workers hold theirs through long idle waits. The web processes don't (gunicorn.conf.py sets
    # DB_HEALTH_CHECKS=false): a connection broken meanwhile fails one request, which closes it.
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = env.bool("DB_HEALTH_CHECKS", default=True)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
if TESTING:
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

LANGUAGE_CODE = env.str("LANGUAGE_CODE", default="tr")
LANGUAGES = [("tr", _("Turkish")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Europe/Istanbul"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = env.path("STATIC_ROOT", default=BASE_DIR / "staticfiles")
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "media/"  # uploads are private: never served by URL
MEDIA_ROOT = env.path("MEDIA_ROOT", default=BASE_DIR / "media")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG or TESTING
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# --- Redis, cache and Celery --------------------------------------------------------------
# REDIS_URL set: Redis is the broker and the cache shared by web and workers (production).
# REDIS_URL unset, the embedded default (`make run`): the same Celery tasks run in a worker that
# `manage.py serve` starts next to the web server, over a broker that needs no server (message
# files under BROKER_DIR, config/broker.py); the cache shared by every process is a database table
# (its add() is one INSERT, so the İYS token fetch lock holds across processes).
REDIS_URL = env.str("REDIS_URL", default="")
BROKER_DIR = BASE_DIR / (env.str("BROKER_DIR", default="") or ".broker")  # relative: to BASE_DIR

if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
elif TESTING:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
else:  # the table is made by `migrate` (providers.apps runs createcachetable)
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "panel_cache"}}

CELERY_RESULT_BACKEND = REDIS_URL or None
# Tests run tasks in-process unless a test starts a real worker (tests/conftest.py).
CELERY_TASK_ALWAYS_EAGER = TESTING
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=30 * 60)
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=25 * 60)
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_RESULT_EXPIRES = 24 * 3600
CELERY_TIMEZONE = TIME_ZONE
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    # A task not acked within this window is redelivered; longer than the longest task.
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": CELERY_TASK_TIME_LIMIT + 600}
elif TESTING:
    CELERY_BROKER_URL = "memory://"  # tasks run eagerly; a test that needs a worker starts one
else:
    CELERY_BROKER_URL = "filesystem://localhost/"  # the host is a placeholder: messages are files
    CELERY_BROKER_TRANSPORT = "config.broker:Transport"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(BROKER_DIR / "queue"),
        "data_folder_out": str(BROKER_DIR / "queue"),
        "processed_folder": str(BROKER_DIR / "taken"),
        "control_folder": str(BROKER_DIR / "control"),
        "polling_interval": 0.2,  # seconds between looks for new messages (a /healthz ping waits for one)
    }
    for _folder in ("queue", "taken", "control"):
        (BROKER_DIR / _folder).mkdir(parents=True, exist_ok=True)
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"

# Queues by purpose: workers can be scaled per queue (docs/deploy.md).
CELERY_QUEUES = ("default", "imports", "sending", "iys", "webhooks")
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_TASK_QUEUES = tuple(Queue(name, Exchange(name), routing_key=name) for name in CELERY_QUEUES)
CELERY_TASK_ROUTES = {
    "contacts.tasks.*": {"queue": "imports"},
    "consent.tasks.*": {"queue": "iys"},
    "messaging.tasks.*": {"queue": "sending"},
    "channels_sms.tasks.*": {"queue": "sending"},
    "channels_whatsapp.tasks.*": {"queue": "sending"},
    "providers.tasks.process_webhook*": {"queue": "webhooks"},  # process_webhooks (the inbox) and the old one
    "webhooks.tasks.*": {"queue": "default"},
    "journeys.tasks.*": {"queue": "sending"},  # outgoing: a slow receiver never delays incoming reports
    "providers.tasks.*": {"queue": "default"},
}
# Periodic tasks: installed into django-celery-beat's tables (editable in the admin) by
# `python manage.py migrate` through providers.apps; each app contributes its entries here.
CELERY_BEAT_DEFAULTS: dict[str, dict] = {
    "Resume stalled file transfers": {
        "task": "contacts.tasks.resume_stalled_transfers",
        "every_seconds": 60,
        "description": "Queues again any file transfer whose worker stopped (it resumes after its checkpoint).",
    },
    "İYS push (pending consent changes)": {
        "task": "consent.tasks.iys_push",
        "every_seconds": 60,
        "description": "Sends the panel's consent changes to İYS in batches and polls their results.",
    },
    "İYS pull (both change feeds)": {
        "task": "consent.tasks.iys_pull",
        "every_seconds": 3600,
        "description": "Applies citizens' and brand-side consent changes from İYS (the feed lags 1 hour).",
    },
    "İYS backfill and Integrator checks": {
        "task": "consent.tasks.iys_backfill",
        "every_seconds": 300,
        "description": "Checks every contact against İYS after install (from the configured night hour, in "
        "throttled batches) and, in Integrator mode, uploaded ONAYs until İYS confirms them.",
    },
    "SMS: start scheduled campaigns and recover stalled sends": {
        "task": "messaging.tasks.sending_tick",
        "every_seconds": 30,
        "description": "Starts campaigns whose send time has come and frees messages claimed by a worker that stopped.",
    },
    "SMS: poll delivery reports": {
        "task": "messaging.tasks.poll_delivery_reports",
        "every_seconds": 300,
        "description": "Asks providers without a delivery webhook (JetSMS, Netgsm) for the outcome of recent messages.",
    },
    "WhatsApp: sync templates": {
        "task": "channels_whatsapp.tasks.sync_templates",
        "every_seconds": 3600,
        "description": "Mirrors every WhatsApp account's templates from Meta (Meta's webhook brings verdicts at once).",
    },
    "Connector connection tests": {
        "task": "providers.tasks.check_all_accounts",
        "every_seconds": 3600,
        "description": "Tests every active connector account hourly; failures show on the dashboard.",
    },
    "Webhooks received: apply waiting posts": {
        "task": "providers.tasks.webhooks_tick",
        "every_seconds": 60,
        "description": "Applies received provider webhooks that wait (a retry that is due, a stopped worker's posts); "
        "each POST normally queues its own drain.",
    },
    "Webhooks: deliver due events": {
        "task": "webhooks.tasks.deliver_due",
        "every_seconds": 30,
        "description": "Delivers outgoing webhook events whose (next) attempt is due, for every endpoint.",
    },
    "Journeys: run due steps": {
        "task": "journeys.tasks.journeys_tick",
        "every_seconds": 5,
        "description": "Runs journey steps whose time has come (waits, timeouts); frees batches of stopped workers.",
    },
    "API: forget old Idempotency-Key answers": {
        "task": "api.tasks.forget_idempotent_requests",
        "every_seconds": 3600,
        "description": "Deletes the answers kept for Idempotency-Key once older than API_IDEMPOTENCY_SECONDS (24 h).",
    },
}

# Dashboard figures: callables returning a list of figures; each app adds its own.
DASHBOARD_FIGURES = [
    "contacts.selectors.dashboard_figures",
    "consent.selectors.dashboard_figures",
    "channels_sms.dashboard.dashboard_figures",
    "providers.selectors.dashboard_figures",
    "config.health.system_figures",
]
# Blocks of the dashboard below the figures, in this order (config.dashboard.Panel).
DASHBOARD_PANELS = [
    "messaging.dashboard.getting_started",
    "messaging.dashboard.messages_chart",
    "consent.charts.dashboard_panels",
    "messaging.dashboard.recent_campaigns",
]

# --- Security (config/settings_security.py): headers, HTTPS, login throttling, CSP ---------
globals().update(security_settings(env, production=not (DEBUG or TESTING), https=not EMBEDDED))

# Webhook secrets (/hooks/<connector>/<secret>/) are redacted in every log record (config/logfilters.py).
LOGGING_CONFIG = "config.logfilters.configure_logging"
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "filters": {"redact_webhook_secrets": {"()": "config.logfilters.RedactWebhookSecrets"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["redact_webhook_secrets"]}
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

LOGIN_URL = "admin:login"
LOGIN_REDIRECT_URL = "admin:index"

# --- Product defaults ----------------------------------------------------------------------
# SMS subscription status of a contact created without one (product.md: None by default).
CONTACT_DEFAULT_SMS_SUBSCRIPTION = env.str("CONTACT_DEFAULT_SMS_SUBSCRIPTION", default="none")
if CONTACT_DEFAULT_SMS_SUBSCRIPTION not in ("subscribed", "not_subscribed", "none"):
    raise ImproperlyConfigured("CONTACT_DEFAULT_SMS_SUBSCRIPTION must be one of: subscribed, not_subscribed, none.")

# A WhatsApp template's media sample is fetched from its link only over https from a public address;
# tests set this to reach their sample server on 127.0.0.1 over http. Never on in production.
WHATSAPP_SAMPLE_FETCH_ALLOW_PRIVATE = False

# A transfer whose worker has not committed a batch for this long is presumed dead and resumed.
FILE_TRANSFER_STALE_SECONDS = env.int("FILE_TRANSFER_STALE_SECONDS", default=300)
# Files of at least this size are parsed in a second process while the first writes (PostgreSQL)
FILE_TRANSFER_PARSE_PROCESS_BYTES = env.int("FILE_TRANSFER_PARSE_PROCESS_BYTES", default=1 << 20)
# A longer line is rejected and the rest of it skipped unread (memory stays flat whatever the file holds)
FILE_TRANSFER_MAX_LINE_BYTES = env.int("FILE_TRANSFER_MAX_LINE_BYTES", default=64 << 10)
# Uploads (admin form and import_file) above this size are refused with a message
FILE_TRANSFER_MAX_UPLOAD_BYTES = env.int("FILE_TRANSFER_MAX_UPLOAD_BYTES", default=1 << 30)
if FILE_TRANSFER_MAX_LINE_BYTES < 4096 or FILE_TRANSFER_MAX_UPLOAD_BYTES < 1:
    raise ImproperlyConfigured(
        "FILE_TRANSFER_MAX_LINE_BYTES must be at least 4096 and FILE_TRANSFER_MAX_UPLOAD_BYTES at least 1."
    )

# Inlines on a contact's admin page, contributed by the apps that own them.
CONTACT_ADMIN_INLINES = ["consent.admin.ConsentHistoryInline", "messaging.admin.ContactMessagesInline"]
# (label, value) lines other apps add to a contact's page (contacts imports none of them)
CONTACT_ADMIN_DETAILS = ["channels_whatsapp.windows.contact_window_detail"]
# Profile attributes the contacts search looks in (a name's start, any case), and those that make
# the name shown in the contacts list (the first of these alternatives the contact has, joined).
CONTACT_SEARCH_ATTRIBUTES = env.list("CONTACT_SEARCH_ATTRIBUTES", default=["name", "first_name", "last_name"])
if any(not name.strip() or len(name) > 100 for name in CONTACT_SEARCH_ATTRIBUTES):
    raise ImproperlyConfigured("CONTACT_SEARCH_ATTRIBUTES must be attribute names of 1 to 100 characters.")
CONTACT_NAME_ATTRIBUTES = [["name"], ["first_name", "last_name"]]
# Where a contact's timeline comes from: functions (contact, *, limit) -> list of contacts.timeline.Entry,
# newest first, contributed by the apps that own them (contacts imports none of them)
CONTACT_TIMELINE_SOURCES = [
    "contacts.timeline.list_entries",
    "contacts.timeline.panel_entries",
    "contacts.timeline.api_entries",
    "consent.timeline.consent_entries",
    "messaging.timeline.message_entries",
    "journeys.timeline.journey_entries",
]

# An İYS batch claimed by a worker that has not finished sending it for this long is sent again
# (İYS answers H174 for what had gone through, which counts as confirmed).
# Work memory for whole-audience counts (previews): see config.db.tuned_for_counting
AGGREGATE_WORK_MEM = env.str("AGGREGATE_WORK_MEM", default="64MB")
IYS_CLAIM_TIMEOUT_SECONDS = env.int("IYS_CLAIM_TIMEOUT_SECONDS", default=600)
# The backfill's pace: batches of 100 contacts per run of the 5-minute task (C5 + a few C4 each)
IYS_BACKFILL_BATCHES_PER_RUN = env.int("IYS_BACKFILL_BATCHES_PER_RUN", default=50)
# Integrator mode: an ONAY waiting for İYS is checked again at most this often
IYS_RECHECK_MINUTES = env.int("IYS_RECHECK_MINUTES", default=60)

# File Transfers: upload kind -> handler (contacts/transfers.py explains the interface).
FILE_TRANSFER_KINDS = {
    "users": "contacts.transfers.UserUpload",
    "sms-iys": "consent.imports.SmsIysUpload",
    "email-iys": "consent.imports.EmailIysUpload",
    "whatsapp": "consent.whatsapp_import.WhatsAppImport",
}

# --- Sending (channels_sms) ---------------------------------------------------------------------
# The panel's public address: providers post delivery reports to PUBLIC_BASE_URL/hooks/<connector>/<secret>/.
# Unset: the address the panel is served on when an admin opens the account (ProviderAccount.public_base_url).
PUBLIC_BASE_URL = env.str("PUBLIC_BASE_URL", default="").rstrip("/")
# Our message ids on the wire are "<prefix>-<id>"; give each installation sharing a provider
# account its own prefix (default: derived from SECRET_KEY).
MESSAGE_ID_PREFIX = env.str(
    "MESSAGE_ID_PREFIX", default="p" + __import__("hashlib").sha256(SECRET_KEY.encode()).hexdigest()[:6]
)
# The currency of connector prices, shown with every cost (previews, confirmations, statistics).
CURRENCY = env.str("CURRENCY", default="TRY")
# Dispatch tasks working on one campaign at once (spread over the `sending` workers).
SMS_DISPATCH_PARALLELISM = env.int("SMS_DISPATCH_PARALLELISM", default=4)
# A campaign's message rows are made this many contacts at a time, sent as soon as each chunk lands
SMS_PREPARE_CHUNK = env.int("SMS_PREPARE_CHUNK", default=50_000)
# A batch claimed by a worker that has not recorded the provider's answer for this long is freed:
# sent again where the provider dedups on our id, otherwise marked failed ("outcome unknown").
SMS_CLAIM_TIMEOUT_SECONDS = env.int("SMS_CLAIM_TIMEOUT_SECONDS", default=120)
# a journey batch claimed longer ago than this is presumed dead and runs again (it rolled back)
JOURNEY_CLAIM_TIMEOUT_SECONDS = env.int("JOURNEY_CLAIM_TIMEOUT_SECONDS", default=60)
SMS_MAX_ATTEMPTS = env.int("SMS_MAX_ATTEMPTS", default=5)
# Webhook events (delivery reports, inbound messages) parsed by a connector go to these handlers.
WEBHOOK_EVENT_HANDLERS = [
    "messaging.delivery.handle_webhook_events",
    "channels_whatsapp.services.handle_webhook_events",
]
# The channels the messaging core sends on: channel → its adapter (messaging.channels)
MESSAGING_CHANNELS = {"sms": "channels_sms.channel.SmsChannel", "whatsapp": "channels_whatsapp.channel.WhatsAppChannel"}

# --- The public API and outgoing webhooks (config/settings_api.py) ------------------------------
_api = api_settings(env, debug=DEBUG or TESTING or EMBEDDED)
REST_FRAMEWORK = _api["REST_FRAMEWORK"]
SPECTACULAR_SETTINGS = _api["SPECTACULAR_SETTINGS"]
API_RATE_LIMIT = _api["API_RATE_LIMIT"]
API_RATE_LIMIT_WINDOW_SECONDS = _api["API_RATE_LIMIT_WINDOW_SECONDS"]
API_IDEMPOTENCY_SECONDS = _api["API_IDEMPOTENCY_SECONDS"]
API_BATCH_MAX = _api["API_BATCH_MAX"]
WEBHOOKS_RETRY_SECONDS = _api["WEBHOOKS_RETRY_SECONDS"]
WEBHOOKS_TIMEOUT_SECONDS = _api["WEBHOOKS_TIMEOUT_SECONDS"]
WEBHOOKS_ALLOW_PRIVATE_ADDRESSES = _api["WEBHOOKS_ALLOW_PRIVATE_ADDRESSES"]
WEBHOOKS_ALLOW_HTTP = _api["WEBHOOKS_ALLOW_HTTP"]
