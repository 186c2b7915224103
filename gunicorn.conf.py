"""gunicorn's settings file, read from the working directory by default (Procfile, Dockerfile):
the command line there keeps the bind, workers and timeout; this adds what a flag cannot say."""

import os

# The access and error logs never show a webhook URL's secret (/hooks/<connector>/***/).
logger_class = "config.gunicorn_logger.GunicornLogger"

# Web requests are short and many: the kept database connection is not pinged before each one
# (config/settings.py); one that broke meanwhile fails a single request, which closes it.
os.environ.setdefault("DB_HEALTH_CHECKS", "false")
