# A base image for language projects: the triggers run in the images built FROM it.
FROM python:3.12-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
RUN pip install --no-cache-dir gunicorn==22.0.0
WORKDIR /app

ONBUILD ARG PIP_EXTRA_ARGS=""
ONBUILD COPY requirements.txt /app/
ONBUILD RUN pip install --no-cache-dir ${PIP_EXTRA_ARGS} -r requirements.txt
ONBUILD COPY . /app
ONBUILD LABEL built.from="onbuild-base"
onbuild run python -m compileall -q /app

EXPOSE 8000
CMD ["gunicorn", "--bind=0.0.0.0:8000", "app:application"]
