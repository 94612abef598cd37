FROM centos:7
MAINTAINER Jane Doe <jane@example.com>

# Legacy one-pair form: everything after the key is the value, spaces included.
ENV JAVA_HOME /usr/lib/jvm/java-11
ENV PATH $JAVA_HOME/bin:$PATH
ENV GREETING Hello from the "old" form

# key=value form with quotes and escapes.
ENV APP_NAME="My App" APP_DIR=/opt/my\ app \
    EMPTY="" SINGLE='no $expansion here'

LABEL "com.example.vendor"="ACME Incorporated"
LABEL com.example.label-with-value="foo"
LABEL version="1.0"
LABEL description="This text illustrates \
that label-values can span multiple lines."
LABEL multi.label1="value1" \
      multi.label2="value2" \
      other="value3"
LABEL org.opencontainers.image.authors='Jane Doe <jane@example.com>' \
      org.opencontainers.image.url="https://example.com/my-app" \
      quoted="she said \"hi\"" \
      app.name="${APP_NAME}"

RUN echo "$APP_NAME lives in $APP_DIR" > /etc/motd
CMD ["/bin/bash"]
