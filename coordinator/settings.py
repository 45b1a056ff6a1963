"""Settings for Samverkan. Every deployment-specific value comes from the environment (see .env.example)."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
from csp import constants as csp
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from coordinator.core.env import env_bool, env_choice, env_float, env_int, env_list, env_str, env_timezone

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("VAR_DIR", str(BASE_DIR / "var")))

DEBUG = env_bool("DEBUG", False)

SECRET_KEY = env_str("SECRET_KEY", required=not DEBUG)
if not SECRET_KEY:
    # Only reachable with DEBUG on: a fixed development key, never used in production.
    SECRET_KEY = "development-only-key-not-for-production-use-0123456789abcdefghij"  # noqa: S105

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
SITE_URL = env_str("SITE_URL", "http://127.0.0.1:8000").rstrip("/")
# The deployed code's name (e.g. its commit): cached pages, answers and feeds are keyed by it, so a deploy
# never serves what the code it replaced built. Empty: a digest of the code read at start (core/release.py).
RELEASE = env_str("RELEASE", "")

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "coordinator.staticfiles.StaticFilesConfig",  # django.contrib.staticfiles, without bundle sources
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "guardian",
    "rules",
    "axes",
    "auditlog",
    "channels",
    "csp",
    "django_tasks",
    "django_tasks_db",
    "django_prometheus",
    "django_guid",
    "coordinator.core",
    "organisations",
    "shadowing",
    "seminars",
    "focusgroups",
]

MIDDLEWARE = [
    # Request metrics (django-prometheus) around everything else; then the request id every log line of
    # the request carries (django-guid: the client's or the proxy's X-Request-ID, else a new one, echoed).
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "django_guid.middleware.guid_middleware",
    "coordinator.core.observability.RequestLogMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_permissions_policy.PermissionsPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "organisations.access.middleware.ProgrammeMiddleware",
    # django-auditlog's, with the client's address resolved as sign-in lockout and throttles resolve it.
    "coordinator.core.security.AuditlogMiddleware",
    # Axes last, as its documentation asks, so that it sees the outcome of authentication.
    "axes.middleware.AxesMiddleware",
    "django_prometheus.middleware.PrometheusAfterMiddleware",
]

ROOT_URLCONF = "coordinator.urls"
ASGI_APPLICATION = "coordinator.asgi.application"
WSGI_APPLICATION = "coordinator.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.template.context_processors.tz",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "coordinator.pages.context_processors.layout",
            ],
            # Dates, numbers, amounts and language names as each language writes them, in every template.
            "builtins": ["coordinator.core.templatetags.formatting"],
        },
    },
]

# --- Database -------------------------------------------------------------------------------------------
# The embedded default is a SQLite file under var/; production and the concurrency tests use PostgreSQL.
DATABASE_URL = env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'samverkan.sqlite3'}")
try:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=env_int("DB_CONN_MAX_AGE", 0))}
except ValueError as exc:  # an unknown scheme or a malformed URL
    raise ImproperlyConfigured(f"DATABASE_URL is not a database URL: {exc}") from exc
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL and a busy timeout let the web server, the job runner and a shell share the file.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
    }
# PostgreSQL: a connection pool per process (psycopg's), so a request borrows an open connection instead of
# opening one. Django has the pool check a connection before lending it, so after a database restart the first
# requests get fresh connections rather than dead ones; a request that finds no connection within
# DB_POOL_TIMEOUT seconds answers 503. DB_POOL_MAX_SIZE=0 switches the pool off (DB_CONN_MAX_AGE applies).
DB_POOL_MAX_SIZE = env_int("DB_POOL_MAX_SIZE", 8, minimum=0)
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" and DB_POOL_MAX_SIZE:
    DATABASES["default"]["CONN_MAX_AGE"] = 0  # the pool keeps connections; Django must not as well
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": env_int("DB_POOL_MIN_SIZE", 1, minimum=0),
        "max_size": DB_POOL_MAX_SIZE,
        "timeout": env_float("DB_POOL_TIMEOUT", 5.0, minimum=0.1),
    }
# PostgreSQL: parameters sent apart from the SQL (server-side binding) rather than spliced into it, so that
# psycopg prepares a statement once a connection has run its SQL DB_PREPARE_THRESHOLD times and afterwards
# only executes it: the server skips parsing and, with its generic plan, planning, which costs several times
# the execution of a small list's page. A connection keeps its prepared statements (pooled or persistent);
# behind a pooler in transaction mode (PgBouncer), set DB_SERVER_SIDE_BINDING=0. docs/deployment.md
# "Prepared statements".
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" and env_bool(
    "DB_SERVER_SIDE_BINDING", True
):
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        server_side_binding=True, prepare_threshold=env_int("DB_PREPARE_THRESHOLD", 5, minimum=0)
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Channels -------------------------------------------------------------------------------------------
REDIS_URL = env_str("REDIS_URL", "")
if REDIS_URL:
    # The pub/sub layer delivered fastest and lost nothing under overload in our measurements.
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            "CONFIG": {"hosts": [REDIS_URL]},
        }
    }
    # One cache for every process: API throttles, sign-in lockouts by address and cached calendar feeds
    # then count and hold across processes.
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    # One process (make run): a socket's queue holds what a busy note sends while the socket writes (at the
    # default of 100, a group send to a full queue is dropped without a word and that editor's copy falls
    # behind until it syncs again).
    CHANNEL_LAYERS = {
        "default": {"BACKEND": "channels.layers.InMemoryChannelLayer", "CONFIG": {"capacity": 10_000}}
    }

# --- Task queue (docs/deployment.md "Task queue") ------------------------------------------------------
# Slow work (matching, mail, periodic sweeps) runs in `manage.py task_worker` processes that read the queue
# from the database: no extra service. TASKS_BACKEND=immediate runs each task inside the call that
# enqueues it (tests that are not about the queue).
TASKS_BACKEND = env_choice("TASKS_BACKEND", "database", {"database", "immediate"})
TASKS = {
    "default": {
        "BACKEND": {
            "database": "django_tasks_db.DatabaseBackend",
            "immediate": "django_tasks.backends.immediate.ImmediateBackend",
        }[TASKS_BACKEND]
    }
}
# A worker that has not been heard of for this long is taken for dead: the task it was running is queued
# again (a crashed worker loses nothing). Workers report every TASKS_HEARTBEAT_SECONDS.
TASKS_HEARTBEAT_SECONDS = env_float("TASKS_HEARTBEAT_SECONDS", 5.0, minimum=0.1)
TASKS_WORKER_TIMEOUT_SECONDS = env_float("TASKS_WORKER_TIMEOUT_SECONDS", 30.0, minimum=0.5)
# How often a failing task is tried again, with exponential back-off, before it is recorded as failed.
TASKS_MAX_ATTEMPTS = env_int("TASKS_MAX_ATTEMPTS", 5, minimum=1)
# A worker claims up to this many ready tasks in one transaction and runs them in turn; once a batch has run
# for TASKS_CLAIM_HOLD_SECONDS, the tasks it has not started go back to the queue (coordinator.core.worker).
TASKS_CLAIM_BATCH = env_int("TASKS_CLAIM_BATCH", 10, minimum=1)
TASKS_CLAIM_HOLD_SECONDS = env_float("TASKS_CLAIM_HOLD_SECONDS", 1.0, minimum=0.0)
# Outbox messages one delivery task sends over one SMTP connection.
OUTBOX_BATCH_SIZE = env_int("OUTBOX_BATCH_SIZE", 200, minimum=1)

# --- Authentication -------------------------------------------------------------------------------------
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
    # Finds the user of a browser session with their identity in one query (the sign-in views sign in with
    # it); passwords and permissions stay ModelBackend's.
    "organisations.access.backends.SessionIdentityBackend",
    # Rights that follow from a rule the code knows (a workplace's host contacts, a focus group's members):
    # predicates in each app's permissions.py, computed when asked, never stored.
    "rules.permissions.ObjectPermissionBackend",
    # Real per-object grants made by a person (stored rows).
    "guardian.backends.ObjectPermissionBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "home"
# django-guardian: no anonymous user row; anonymous visitors never hold object permissions.
ANONYMOUS_USER_NAME = None
GUARDIAN_RAISE_403 = False

# How many reverse proxies stand in front of the app, each appending the address it saw to X-Forwarded-For.
# 0: the client's address is the connection's (REMOTE_ADDR) and X-Forwarded-For is ignored, since anyone can
# send one. N: the address the outermost of our N proxies saw. One setting for sign-in lockout and API
# throttles alike (coordinator.core.security.client_ip is DRF's rule with NUM_PROXIES).
if "AXES_PROXY_COUNT" in os.environ:
    raise ImproperlyConfigured("AXES_PROXY_COUNT is now TRUSTED_PROXY_COUNT (API throttles use it too)")
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0, minimum=0)
# Invitations: how long a link works, and how soon after one is sent another may be sent to the same person.
INVITATION_EXPIRY_DAYS = env_int("INVITATION_EXPIRY_DAYS", 14, minimum=1)
INVITATION_RESEND_MINUTES = env_int("INVITATION_RESEND_MINUTES", 10, minimum=0)
# Password reset links (Django's own tokens, invalid once the password changes).
PASSWORD_RESET_TIMEOUT = env_int("PASSWORD_RESET_TIMEOUT_SECONDS", 3 * 3600, minimum=3600)
# Single sign-on (OpenID Connect, one provider per organisation): how long a provider may take to answer.
SSO_HTTP_TIMEOUT_SECONDS = env_int("SSO_HTTP_TIMEOUT_SECONDS", 10, minimum=1)

AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("AXES_COOLOFF_MINUTES", 15, minimum=1))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
# Password spraying (one guess each for many accounts) never reaches AXES_FAILURE_LIMIT for any one account:
# this many failures from one address, whatever the accounts, pause sign-in from that address too. Higher
# than the per-account limit, because a whole office may sign in from one address.
AXES_HANDLER = "coordinator.core.security.SignInAttemptHandler"
SIGN_IN_ADDRESS_FAILURE_LIMIT = env_int("SIGN_IN_ADDRESS_FAILURE_LIMIT", 20, minimum=1)
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "coordinator.core.security.lockout_response"
AXES_CLIENT_IP_CALLABLE = "coordinator.core.security.client_ip"
AXES_ENABLED = env_bool("AXES_ENABLED", True)

# --- Internationalisation ----------------------------------------------------------------------------------
LANGUAGE_CODE = env_choice("LANGUAGE_CODE", "sv", {"sv", "da", "en"})
LANGUAGES = [("sv", _("Swedish")), ("da", _("Danish")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
USE_TZ = True
# Stored times are UTC; each page shows the programme's own zone (see ProgrammeMiddleware).
TIME_ZONE = env_timezone("TIME_ZONE", "Europe/Stockholm")
LANGUAGE_COOKIE_NAME = "samverkan_language"
LANGUAGE_COOKIE_SAMESITE = "Lax"

# --- Static files ---------------------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(VAR_DIR / "static")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
WHITENOISE_USE_FINDERS = DEBUG

# --- Email ----------------------------------------------------------------------------------------------
EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.filebased.EmailBackend")
EMAIL_FILE_PATH = env_str("EMAIL_FILE_PATH", str(VAR_DIR / "mail"))
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25, minimum=1)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 20, minimum=1)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Samverkan <noreply@samverkan.example>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# The organiser mailbox that replies to invites (iMIP REPLY) arrive in, read over IMAP; every programme's
# organiser address delivers there. No host: replies are not read.
CALENDAR_REPLY_IMAP_HOST = env_str("CALENDAR_REPLY_IMAP_HOST", "")
CALENDAR_REPLY_IMAP_PORT = env_int("CALENDAR_REPLY_IMAP_PORT", 993, minimum=1)
CALENDAR_REPLY_IMAP_SSL = env_bool("CALENDAR_REPLY_IMAP_SSL", True)
CALENDAR_REPLY_IMAP_USER = env_str("CALENDAR_REPLY_IMAP_USER", "")
CALENDAR_REPLY_IMAP_PASSWORD = env_str("CALENDAR_REPLY_IMAP_PASSWORD", "")
CALENDAR_REPLY_IMAP_FOLDER = env_str("CALENDAR_REPLY_IMAP_FOLDER", "INBOX")
# How often the outbox retries a message that could not be sent, and when it gives up and alerts.
OUTBOX_MAX_ATTEMPTS = env_int("OUTBOX_MAX_ATTEMPTS", 8, minimum=1)

# --- Personal data --------------------------------------------------------------------------------------
# How many days after a person's last programme membership ended their personal data is erased
# (pseudonymised) by the periodic job; 0 keeps it until a programme admin erases it.
PERSONAL_DATA_RETENTION_DAYS = env_int("PERSONAL_DATA_RETENTION_DAYS", 730, minimum=0)

# --- REST API -------------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    # Token first: an anonymous API call then answers 401 with a WWW-Authenticate header.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "organisations.access.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # DRF's parsers, JSON's answering a body nested too deeply with a 400.
    "DEFAULT_PARSER_CLASSES": [
        "coordinator.core.drf.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_PAGINATION_CLASS": "coordinator.core.drf.Pagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": [
        "coordinator.core.filters.FilterBackend",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_SCHEMA_CLASS": "coordinator.core.schema.AutoSchema",
    "EXCEPTION_HANDLER": "coordinator.core.drf.exception_handler",
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": "coordinator.core.drf.ContentNegotiation",
    # Throttles tell clients apart by address: never by a X-Forwarded-For that no proxy of ours wrote.
    "NUM_PROXIES": TRUSTED_PROXY_COUNT,
    "DEFAULT_THROTTLE_CLASSES": [
        "coordinator.core.throttling.AnonRateThrottle",
        "coordinator.core.throttling.UserRateThrottle",
        "coordinator.core.throttling.ScopedRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env_str("API_THROTTLE_ANON", "120/minute"),
        "user": env_str("API_THROTTLE_USER", "6000/minute"),
        "login": env_str("API_THROTTLE_LOGIN", "10/minute"),
        "ping": env_str("API_THROTTLE_PING", "6000/minute"),
    },
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
# API list pages read as values and written by their serializers' plans (coordinator.core.plans); off:
# DRF's model instances and field-by-field loop, with the same answers (for comparison and as a fallback).
API_LIST_PLANS = env_bool("API_LIST_PLANS", True)
# A planned list's first page compiled to SQL once per connection and request shape, then only run
# (coordinator.core.shapes); off: the queryset is built and compiled on every request, with the same answers.
API_LIST_SHAPES = env_bool("API_LIST_SHAPES", True)
# A list's first page answered whole from the cache while the database stamps of everything it shows are
# unchanged (coordinator.core.answers); off: every request builds its answer, the same bytes.
API_ANSWER_CACHE = env_bool("API_ANSWER_CACHE", True)
SPECTACULAR_SETTINGS = {
    "TITLE": "Samverkan API",
    "DESCRIPTION": "Cross-agency collaboration and job shadowing: programmes, organisations, shadowing, "
    "seminars and focus groups. Every object belongs to a programme; you only ever see your own.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "ENUM_NAME_OVERRIDES": {
        "UILanguageEnum": "organisations.models.UI_LANGUAGES",
        "PlatformRoleEnum": "organisations.models.PlatformRole",
    },
}

# --- Security -------------------------------------------------------------------------------------------
# Sessions (docs/deployment.md "Sessions"): with Redis, "cached_db" reads a signed-in request's session from
# the cache shared by every process and writes it through to the database, which stays the record (a
# socket's re-check and the sign-out of every session of an account read the rows; a row deleted by any path
# leaves the cache at once; an unreachable cache falls back to the rows: coordinator/core/sessions.py).
# Without Redis (one process, make run) "db"; "cached_db" is refused there, since each process would keep
# its own copy and a session ended in one would live on in the others.
_session_engine = env_choice("SESSION_ENGINE", "cached_db" if REDIS_URL else "db", {"db", "cached_db"})
if _session_engine == "cached_db" and not REDIS_URL:
    raise ImproperlyConfigured("SESSION_ENGINE=cached_db needs REDIS_URL (a cache every process shares)")
SESSION_ENGINE = {"cached_db": "coordinator.core.sessions", "db": "django.contrib.sessions.backends.db"}[
    _session_engine
]
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", not DEBUG)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", not DEBUG)
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31_536_000, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", not DEBUG)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", not DEBUG)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
LANGUAGE_COOKIE_SECURE = SESSION_COOKIE_SECURE
LANGUAGE_COOKIE_HTTPONLY = True
# Content Security Policy (django-csp): scripts, styles, images and fonts from the site itself only; the few
# inline scripts and styles (the API docs page) carry the request's nonce. Websockets go to the site's own
# origin (named as ws/wss as well, for browsers that do not count them as 'self').
_site = urlsplit(SITE_URL)
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [csp.SELF],
        "script-src": [csp.SELF, csp.NONCE],
        "style-src": [csp.SELF, csp.NONCE],
        "img-src": [csp.SELF, "data:"],
        "font-src": [csp.SELF],
        "connect-src": [csp.SELF, f"{'wss' if _site.scheme == 'https' else 'ws'}://{_site.netloc}"],
        "object-src": [csp.NONE],
        "base-uri": [csp.NONE],
        "form-action": [csp.SELF],
        "frame-ancestors": [csp.NONE],
    },
}
# Permissions-Policy (django-permissions-policy): the platform uses none of these browser features.
PERMISSIONS_POLICY: dict[str, list[str]] = {
    feature: []
    for feature in (
        "accelerometer",
        "camera",
        "display-capture",
        "geolocation",
        "gyroscope",
        "magnetometer",
        "microphone",
        "midi",
        "payment",
        "publickey-credentials-get",
        "screen-wake-lock",
        "usb",
        "xr-spatial-tracking",
    )
}
if env_bool("BEHIND_TLS_PROXY", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# The health check is probed over plain HTTP by the load balancer.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]

# --- Logging --------------------------------------------------------------------------------------------
# LOG_FORMAT=json (the production default): one JSON object per line (python-json-logger) with the request
# id of the request it belongs to; "plain" for reading on a terminal. LOG_REQUESTS=1 logs one line per
# request (method, path, status, duration) on the "samverkan.requests" logger.
LOG_FORMAT = env_choice("LOG_FORMAT", "plain" if DEBUG else "json", {"plain", "json"})
LOG_REQUESTS = env_bool("LOG_REQUESTS", True)
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "request_id": {"()": "django_guid.log_filters.CorrelationId", "correlation_id_field": "request_id"}
    },
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        },
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT, "filters": ["request_id"]}
    },
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        "daphne": {"level": "WARNING"},
        "axes": {"level": "WARNING"},
        "django_guid": {"level": "WARNING"},
        "samverkan.requests": {"level": "INFO" if LOG_REQUESTS else "WARNING"},
    },
}
# Request ids (django-guid): an incoming X-Request-ID that is a UUID is kept, anything else replaced by a new
# one; the id goes back in the response's X-Request-ID.
DJANGO_GUID = {
    "GUID_HEADER_NAME": "X-Request-ID",
    "VALIDATE_GUID": True,
    "RETURN_HEADER": True,
    "EXPOSE_HEADER": False,
    "UUID_LENGTH": 32,
}
# The Prometheus metrics (/metrics) answer only to "Authorization: Bearer <METRICS_TOKEN>"; empty: no
# metrics endpoint at all.
METRICS_TOKEN = env_str("METRICS_TOKEN", "")

# --- Audit trail (django-auditlog) ---------------------------------------------------------------------
# Before an update is saved, auditlog reads the row's previous state by primary key. The row was already
# read in the caller's tenant scope, and jobs save with no scope, so that read goes through the plain base
# manager instead of the scoped default one (which would raise outside a scope).
AUDITLOG_USE_BASE_MANAGER = True

# --- Domain settings ------------------------------------------------------------------------------------
# The mailbox that appears as ORGANIZER when a programme has none of its own.
DEFAULT_ORGANIZER_EMAIL = env_str("DEFAULT_ORGANIZER_EMAIL", "samordnare@samverkan.example")
CALENDAR_PRODID = "-//Samverkan//Samverkan 1.0//EN"
CALENDAR_UID_DOMAIN = env_str("CALENDAR_UID_DOMAIN", "samverkan.example")
# How often the seminars sweep for due work (expired offers, released seats) runs, in seconds.
JOBS_INTERVAL_SECONDS = env_int("JOBS_INTERVAL_SECONDS", 60, minimum=1)

# --- Job shadowing (shadowing/) -------------------------------------------------------------------------
# How long an approved request may wait unplaced before it expires and the requester is told (days).
SHADOWING_REQUEST_EXPIRY_DAYS = env_int("SHADOWING_REQUEST_EXPIRY_DAYS", 182, minimum=1)
# Weight of the fairness term in matching: how much the matcher trades preference score for spreading
# placements evenly across the requesters' organisations. 0 switches it off. A person placed in the
# worst-served organisation is worth at most weight x (number of organisations) points, a placement 1000:
# keep the weight well below 1000 / organisations so that fairness never costs a placement.
SHADOWING_FAIRNESS_WEIGHT = env_float("SHADOWING_FAIRNESS_WEIGHT", 1.0, minimum=0.0)
# Time limit for one matching run's solver (seconds).
SHADOWING_MATCHING_TIME_LIMIT = env_float("SHADOWING_MATCHING_TIME_LIMIT", 20.0, minimum=0.1)
# Named API enums: several shadowing models have a "status" field.
_shadowing_enums = SPECTACULAR_SETTINGS["ENUM_NAME_OVERRIDES"]
assert isinstance(_shadowing_enums, dict)
_shadowing_enums["ShadowingRequestStatusEnum"] = "shadowing.models.REQUEST_STATUSES"
_shadowing_enums["PlacementStatusEnum"] = "shadowing.models.PLACEMENT_STATUSES"
_shadowing_enums["MatchingRunStatusEnum"] = "shadowing.models.RUN_STATUSES"


# --- Seminars and courses (seminars/) -------------------------------------------------------------------
# How long a freed seat is held for the person it is offered to, unless a round says otherwise (hours).
SEMINARS_OFFER_HOLD_HOURS = env_int("SEMINARS_OFFER_HOLD_HOURS", 48, minimum=1)
# How far back the personal calendar feed lists course sessions that have already taken place (days).
SEMINARS_FEED_PAST_DAYS = env_int("SEMINARS_FEED_PAST_DAYS", 365, minimum=0)
# How far back the personal feed shows shadowing visits and focus-group meetings.
CALENDAR_FEED_PAST_DAYS = env_int("CALENDAR_FEED_PAST_DAYS", 365, minimum=0)
# Answer an unchanged personal feed from the cache, keyed by the person's stamp (coordinator.core.personal).
CALENDAR_FEED_CACHE = env_bool("CALENDAR_FEED_CACHE", True)
# The group size the coordinators' "form discussion groups" page suggests.
SEMINARS_GROUP_SIZE = env_int("SEMINARS_GROUP_SIZE", 8, minimum=2)
# Named API enums: a cost's "kind" shares its field name with an organisation's "kind".
_enum_names = SPECTACULAR_SETTINGS["ENUM_NAME_OVERRIDES"]
assert isinstance(_enum_names, dict)
_enum_names["CostKindEnum"] = "seminars.models.COST_KINDS"
_enum_names["VisitCostKindEnum"] = "shadowing.models.VISIT_COST_KINDS"
_enum_names["OrganisationKindEnum"] = "organisations.models.OrganisationKind"

# --- Focus groups (focusgroups/) ------------------------------------------------------------------------
# A live-notes socket that has not pinged for this long (its process died) drops out of the presence list.
FOCUSGROUPS_PRESENCE_TTL_SECONDS = env_int("FOCUSGROUPS_PRESENCE_TTL_SECONDS", 90, minimum=10)
# A note's live edits become a named version once nobody has typed in it for this long.
NOTE_VERSION_PAUSE_SECONDS = env_int("NOTE_VERSION_PAUSE_SECONDS", 30, minimum=1)
# The live edits of one note that reach a socket process within this many milliseconds of the last stored
# batch are stored and sent on as one change (one transaction, one merged frame per socket); 0 = no wait.
NOTE_UPDATE_INTERVAL_MS = env_int("NOTE_UPDATE_INTERVAL_MS", 20, minimum=0)
