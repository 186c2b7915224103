"""gunicorn's settings file, read from the working directory by default (Procfile, Dockerfile):
the command line there keeps the bind, workers and timeout; this adds what a flag cannot say."""

# The access and error logs never show a webhook URL's secret (/hooks/<connector>/***/).
logger_class = "config.gunicorn_logger.GunicornLogger"
